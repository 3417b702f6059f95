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
        var words = new Argument<string[]>("words") { Description = "Keys whose neighbours to list", Arity = ArgumentArity.ZeroOrMore };
        var positive = new Option<string?>("--positive") { Description = "One more query: the mean of these keys' unit vectors (comma-separated) …" };
        var negative = new Option<string?>("--negative") { Description = "… minus these keys' (comma-separated), as gensim's most_similar(positive, negative)" };
        var vector = new Option<string?>("--vector") { Description = "One more query: a vector, its values comma-separated (gensim's similar_by_vector)" };
        var top = new Option<int>("--top") { Description = "Neighbours per word", DefaultValueFactory = _ => 10 };
        var restrict = new Option<int?>("--restrict-vocab") { Description = "Search only the first N keys (the most frequent)" };
        var metric = new Option<string>("--metric")
        {
            Description = "cosine (similarity of unit vectors) or euclidean (distance of the raw vectors, nearest first)",
            DefaultValueFactory = _ => "cosine",
        };
        metric.AcceptOnlyFromAmong("cosine", "euclidean");
        var approx = new Option<bool>("--approx") { Description = "Search the approximate index (see `tokenspace index build`) instead of every row" };
        var expansion = new Option<int?>("--expansion") { Description = "With --approx: HNSW's ef, candidates kept while searching (default 64; more: better recall, slower)" };
        var indexPath = new Option<string?>("--index") { Description = "With --approx: the index file (default: beside the vectors, with .ann appended)" };
        var command = new Command("neighbors", "Nearest neighbours of each word (cosine similarity, or --metric euclidean; the word itself left out)")
        {
            vectors, words, positive, negative, vector, top, restrict, metric, approx, expansion, indexPath,
        };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            if (parse.GetValue(top) < 1) throw new ArgumentException($"--top must be at least 1, got {parse.GetValue(top)}");
            bool euclidean = parse.GetValue(metric) == "euclidean";
            if (euclidean && parse.GetValue(restrict) is not null) throw new ArgumentException("--restrict-vocab goes with --metric cosine");
            bool approximate = parse.GetValue(approx);
            if (euclidean && approximate) throw new ArgumentException("--approx goes with --metric cosine");
            if (!approximate && (parse.GetValue(expansion) is not null || parse.GetValue(indexPath) is not null))
            {
                throw new ArgumentException("--expansion and --index apply to an approximate search: add --approx");
            }
            using var kv = VectorOptions.Load(parse, vectors);
            if (approximate)
            {
                var index = kv.OpenIndex(parse.GetValue(indexPath) ?? ApproximateIndex.PathBeside(VectorOptions.Resolve(parse.GetValue(vectors)!)));
                if (parse.GetValue(expansion) is { } ef)
                {
                    index.Expansion = ef >= 1 ? ef : throw new ArgumentException($"--expansion must be at least 1, got {ef}");
                }
            }
            var batch = parse.GetValue(words)!.Select(w => ((IReadOnlyList<string>)[w], (IReadOnlyList<string>)[])).ToList();
            var queries = parse.GetValue(words)!.ToList();
            string[] plus = LoadedVectors.SplitWords(parse.GetValue(positive) ?? ""), minus = LoadedVectors.SplitWords(parse.GetValue(negative) ?? "");
            if (plus.Length + minus.Length > 0)
            {
                batch.Add((plus, minus));
                queries.Add(string.Join(" ", plus.Select(w => "+" + w).Concat(minus.Select(w => "-" + w))));
            }
            var byVector = parse.GetValue(vector) is { } list ? ParseVector(list, kv.Dimensions) : null;
            if (queries.Count == 0 && byVector is null) throw new ArgumentException("give words, --positive/--negative keys or a --vector");
            if (euclidean && (plus.Length + minus.Length > 0 || byVector is not null)) throw new ArgumentException("--positive, --negative and --vector go with --metric cosine");
            int k = parse.GetValue(top);
            // For the table, a Euclidean neighbour's distance stands in the score column.
            var found = (euclidean
                ? queries.Select(q => (IReadOnlyList<Neighbor>)kv.ClosestByDistance(q, k).Select(n => new Neighbor(n.Key, n.Distance)).ToList()).ToArray()
                : kv.MostSimilarBatch(batch, k, parse.GetValue(restrict), approximate)).ToList();
            if (byVector is not null)
            {
                found.Add(kv.SimilarByVector(byVector, k, parse.GetValue(restrict), approximate));
                queries.Add("vector");
            }
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
            for (int i = 0; i < queries.Count; i++) AnsiConsole.Write(Table(queries[i], euclidean ? "distance" : "similarity", found[i]));
            return 0;
        }));
        return command;
    }

    /// <summary>The values of <c>--vector</c>: <paramref name="dims"/> numbers, comma-separated.</summary>
    static float[] ParseVector(string list, int dims)
    {
        var parts = list.Split(',');
        if (parts.Length != dims) throw new ArgumentException($"--vector has {parts.Length} values, the vectors have {dims} dimensions");
        return parts.Select(p => float.TryParse(p, System.Globalization.CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) ? v
            : throw new ArgumentException($"--vector: '{p}' is not a finite number")).ToArray();
    }

    /// <summary>A ranked table of neighbours titled <paramref name="title"/>.</summary>
    public static Table Table(string title, string scoreName, IReadOnlyList<Neighbor> neighbors)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumn("#").AddColumn("key").AddColumn(new TableColumn(scoreName).RightAligned());
        for (int r = 0; r < neighbors.Count; r++) table.AddRow((r + 1).ToString(), Markup.Escape(neighbors[r].Key), neighbors[r].Similarity.ToString("F4"));
        return table;
    }
}
