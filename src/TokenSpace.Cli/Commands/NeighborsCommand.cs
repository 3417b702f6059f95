using System.CommandLine;
using Spectre.Console;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace neighbors --vectors FILE WORD… --top N</c>: each word's nearest keys by cosine similarity.</summary>
static class NeighborsCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        var words = new Argument<string[]>("words") { Description = "Keys whose neighbours to list", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top") { Description = "Neighbours per word", DefaultValueFactory = _ => 10 };
        var restrict = new Option<int?>("--restrict-vocab") { Description = "Search only the first N keys (the most frequent)" };
        var metric = new Option<string>("--metric")
        {
            Description = "cosine (similarity of unit vectors) or euclidean (distance of the raw vectors, nearest first)",
            DefaultValueFactory = _ => "cosine",
        };
        metric.AcceptOnlyFromAmong("cosine", "euclidean");
        var command = new Command("neighbors", "Nearest neighbours of each word (cosine similarity, or --metric euclidean; the word itself left out)")
        {
            vectors, words, top, restrict, metric,
        };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            if (parse.GetValue(top) < 1) throw new ArgumentException($"--top must be at least 1, got {parse.GetValue(top)}");
            bool euclidean = parse.GetValue(metric) == "euclidean";
            if (euclidean && parse.GetValue(restrict) is not null) throw new ArgumentException("--restrict-vocab goes with --metric cosine");
            using var kv = VectorOptions.Load(parse, vectors);
            var queries = parse.GetValue(words)!;
            int k = parse.GetValue(top);
            // For the table, a Euclidean neighbour's distance stands in the score column.
            IReadOnlyList<Neighbor>[] found = euclidean
                ? queries.Select(q => (IReadOnlyList<Neighbor>)kv.ClosestByDistance(q, k).Select(n => new Neighbor(n.Key, n.Distance)).ToList()).ToArray()
                : kv.MostSimilarBatch(queries.Select(w => ((IReadOnlyList<string>)[w], (IReadOnlyList<string>)[])).ToList(), k, parse.GetValue(restrict));
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(new
                {
                    results = queries.Select((q, i) => new
                    {
                        query = q,
                        neighbors = found[i].Select(n => euclidean ? (object)new { key = n.Key, distance = n.Similarity } : new { key = n.Key, similarity = n.Similarity }),
                    }),
                });
                return 0;
            }
            for (int i = 0; i < queries.Length; i++) AnsiConsole.Write(Table(queries[i], euclidean ? "distance" : "similarity", found[i]));
            return 0;
        }));
        return command;
    }

    /// <summary>A ranked table of neighbours titled <paramref name="title"/>.</summary>
    public static Table Table(string title, string scoreName, IReadOnlyList<Neighbor> neighbors)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumn("#").AddColumn("key").AddColumn(new TableColumn(scoreName).RightAligned());
        for (int r = 0; r < neighbors.Count; r++) table.AddRow((r + 1).ToString(), Markup.Escape(neighbors[r].Key), neighbors[r].Similarity.ToString("F4"));
        return table;
    }
}
