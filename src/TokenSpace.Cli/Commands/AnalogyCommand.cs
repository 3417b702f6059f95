using System.CommandLine;
using Spectre.Console;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace analogy --vectors FILE A B C</c>: D such that A is to B as C is to D.</summary>
static class AnalogyCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        var a = new Argument<string>("a") { Description = "A in A:B :: C:?" };
        var b = new Argument<string>("b") { Description = "B in A:B :: C:?" };
        var c = new Argument<string>("c") { Description = "C in A:B :: C:?" };
        var top = new Option<int>("--top") { Description = "Candidates to list", DefaultValueFactory = _ => 5 };
        var method = new Option<string>("--method") { Description = "add (3CosAdd: b − a + c) or cosmul (3CosMul)",
            DefaultValueFactory = _ => "add" };
        method.AcceptOnlyFromAmong("add", "cosmul");
        var restrict = new Option<int?>("--restrict-vocab") { Description = "Search only the first N keys (the most frequent)" };
        var command = new Command("analogy",
            "Solve A:B :: C:? (3CosAdd, or 3CosMul with --method cosmul); the three words are left out") { vectors, a, b, c, top, method,
            restrict };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            if (parse.GetValue(top) < 1) throw new ArgumentException($"--top must be at least 1, got {parse.GetValue(top)}");
            using var kv = VectorOptions.Load(parse, vectors);
            string wa = parse.GetValue(a)!, wb = parse.GetValue(b)!, wc = parse.GetValue(c)!;
            string m = parse.GetValue(method)!;
            var found = m == "cosmul"
                ? kv.MostSimilarCosMul([wb, wc], [wa], parse.GetValue(top), parse.GetValue(restrict))
                : kv.MostSimilar([wb, wc], [wa], parse.GetValue(top), parse.GetValue(restrict));
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(new
                {
                    a = wa,
                    b = wb,
                    c = wc,
                    method = m,
                    answer = found.Count > 0 ? found[0].Key : null,
                    candidates = found.Select(n => new { key = n.Key, score = n.Similarity }),
                });
                return 0;
            }
            AnsiConsole.Write(NeighborsCommand.Table($"{wa} : {wb} :: {wc} : ?", m == "cosmul" ? "3CosMul" : "similarity", found));
            return 0;
        }));
        return command;
    }
}
