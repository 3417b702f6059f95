using System.CommandLine;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace similarity --vectors FILE A B</c>: cosine similarity of two words.</summary>
static class SimilarityCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        var a = new Argument<string>("a") { Description = "First word" };
        var b = new Argument<string>("b") { Description = "Second word" };
        var command = new Command("similarity", "Cosine similarity of two words") { vectors, a, b };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            using var kv = VectorOptions.Load(parse, vectors);
            string wa = parse.GetValue(a)!, wb = parse.GetValue(b)!;
            float s = kv.Similarity(wa, wb);
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(new { a = wa, b = wb, similarity = s });
            else Console.WriteLine($"similarity({wa}, {wb}) = {s:F6}");
            return 0;
        }));
        return command;
    }
}
