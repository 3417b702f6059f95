using System.CommandLine;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace distance --vectors FILE A B --metric cosine|euclidean</c>.</summary>
static class DistanceCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        var a = new Argument<string>("a") { Description = "First word" };
        var b = new Argument<string>("b") { Description = "Second word" };
        var metric = new Option<string>("--metric") { Description = "cosine (1 − cosine similarity) or euclidean (‖a − b‖ of the raw " +
            "vectors)", DefaultValueFactory = _ => "cosine" };
        metric.AcceptOnlyFromAmong("cosine", "euclidean");
        var command = new Command("distance", "Distance between two words") { vectors, a, b, metric };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            using var kv = VectorOptions.Load(parse, vectors);
            string wa = parse.GetValue(a)!, wb = parse.GetValue(b)!, m = parse.GetValue(metric)!;
            float d = kv.Distance(wa, wb, m == "euclidean" ? DistanceMetric.Euclidean : DistanceMetric.Cosine);
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(new { a = wa, b = wb, metric = m, distance = d });
            else Console.WriteLine($"{m} distance({wa}, {wb}) = {d:F6}");
            return 0;
        }));
        return command;
    }
}
