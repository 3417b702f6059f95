using System.CommandLine;
using Spectre.Console;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// <c>tokenspace neighbors --vectors FILE WORD… --top N</c>: each word's nearest keys by cosine similarity. Every query
/// is answered on its own: an unknown word is reported (one line on stderr, or an <c>error</c> in its JSON result)
/// while the others are answered, and the exit code is then 1, as <c>cat a missing b</c> prints a and b and fails.
/// </summary>
static class NeighborsCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        var words = new Argument<string[]>("words") { Description = "Keys whose neighbours to list", Arity = ArgumentArity.ZeroOrMore };
        var wordList = new Option<string?>("--words") { Description = "More keys whose neighbours to list, comma-separated" };
        var positive = new Option<string?>("--positive") { Description = "One more query: the mean of these keys' unit vectors " +
            "(comma-separated) …" };
        var negative = new Option<string?>("--negative") { Description = "… minus these keys' (comma-separated), as gensim's " +
            "most_similar(positive, negative)" };
        var vector = new Option<string?>("--vector") { Description = "One more query: a vector, its values comma-separated (gensim's " +
            "similar_by_vector)" };
        var top = new Option<int>("--top") { Description = "Neighbours per word", DefaultValueFactory = _ => 10 };
        var restrict = new Option<int?>("--restrict-vocab") { Description = "Search only the first N keys (the most frequent)" };
        var metric = new Option<string>("--metric")
        {
            Description = "cosine (similarity of unit vectors) or euclidean (distance of the raw vectors, nearest first)",
            DefaultValueFactory = _ => "cosine",
        };
        metric.AcceptOnlyFromAmong("cosine", "euclidean");
        var approx = new Option<bool>("--approx") { Description = "Search the approximate index (see `tokenspace index build`) instead " +
            "of " +
            "every row" };
        var expansion = new Option<int?>("--expansion") { Description = "With --approx: HNSW's ef, candidates kept while searching " +
            "(default 64; more: better recall, slower)" };
        var indexPath = new Option<string?>("--index") { Description = "With --approx: the index file (default: beside the vectors, with " +
            ".ann appended)" };
        var command = new Command("neighbors",
            "Nearest neighbours of each word (cosine similarity, or --metric euclidean; the word itself left out). "
            + "An unknown word is reported and the others answered; the exit code is then 1")
        {
            vectors, words, wordList, positive, negative, vector, top, restrict, metric, approx, expansion, indexPath,
        };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            if (parse.GetValue(top) < 1) throw new ArgumentException($"--top must be at least 1, got {parse.GetValue(top)}");
            bool euclidean = parse.GetValue(metric) == "euclidean";
            if (euclidean && parse.GetValue(restrict) is not null) throw new ArgumentException("--restrict-vocab goes with --metric " +
                "cosine");
            bool approximate = parse.GetValue(approx);
            if (euclidean && approximate) throw new ArgumentException("--approx goes with --metric cosine");
            if (!approximate && (parse.GetValue(expansion) is not null || parse.GetValue(indexPath) is not null))
            {
                throw new ArgumentException("--expansion and --index apply to an approximate search: add --approx");
            }
            using var kv = VectorOptions.Load(parse, vectors);
            if (approximate)
            {
                var index = kv.OpenIndex(parse.GetValue(indexPath)
                    ?? ApproximateIndex.PathBeside(VectorOptions.Resolve(parse.GetValue(vectors)!)));
                if (parse.GetValue(expansion) is { } ef)
                {
                    index.Expansion = ef >= 1 ? ef : throw new ArgumentException($"--expansion must be at least 1, got {ef}");
                }
            }
            // One query per word, one for --positive/--negative, one for --vector; each answered or failed on its own.
            var queries = parse.GetValue(words)!.Concat(KeyText.SplitList(parse.GetValue(wordList) ?? "", kv))
                .Select(w => new Query(w, [w], [])).ToList();
            string[] plus = KeyText.SplitList(parse.GetValue(positive) ?? "", kv), minus = KeyText.SplitList(parse.GetValue(negative) ?? "", kv);
            if (plus.Length + minus.Length > 0)
            {
                queries.Add(new Query(string.Join(" ", plus.Select(w => "+" + w).Concat(minus.Select(w => "-" + w))), plus, minus));
            }
            var byVector = parse.GetValue(vector) is { } list ? ParseVector(list, kv.Dimensions) : null;
            if (queries.Count == 0 && byVector is null) throw new ArgumentException("give words, --positive/--negative keys or a --vector");
            if (euclidean && (plus.Length + minus.Length > 0
                || byVector is not null)) throw new ArgumentException("--positive, --negative and --vector go with --metric cosine");
            int k = parse.GetValue(top);
            var errors = queries.Select(q => Unknown(kv, q.Positive.Concat(q.Negative))).ToList();
            var known = queries.Where((_, i) => errors[i] is null).ToList();
            // For the table, a Euclidean neighbour's distance stands in the score column.
            var answers = new Queue<IReadOnlyList<Neighbor>>(euclidean
                ? known.Select(q => (IReadOnlyList<Neighbor>)kv.ClosestByDistance(q.Name, k).Select(n => new Neighbor(n.Key, n.Distance))
                    .ToList())
                : kv.MostSimilarBatch(known.Select(q => (q.Positive, q.Negative)).ToList(), k, parse.GetValue(restrict), approximate));
            var found = errors.Select(e => e is null ? answers.Dequeue() : null).ToList();
            if (byVector is not null)
            {
                queries.Add(new Query("vector", [], []));
                errors.Add(null);
                found.Add(kv.SimilarByVector(byVector, k, parse.GetValue(restrict), approximate));
            }
            int code = errors.Any(e => e is not null) ? 1 : 0;
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(new
                {
                    results = queries.Select((q, i) => found[i] is { } neighbors
                        ? (object)new
                        {
                            query = q.Name,
                            neighbors = neighbors.Select(n => euclidean ? (object)new { key = n.Key, distance = n.Similarity }
                                : new { key = n.Key, similarity = n.Similarity }),
                        }
                        : new { query = q.Name, error = errors[i] }),
                });
                return code;
            }
            for (int i = 0; i < queries.Count; i++)
            {
                if (found[i] is { } neighbors) AnsiConsole.Write(Table(queries[i].Name, euclidean ? "distance" : "similarity", neighbors));
                else Console.Error.WriteLine($"error: {errors[i]}");
            }
            return code;
        }));
        return command;
    }

    /// <summary>One query: its name in the output, and the keys whose mean (positive minus negative) it asks about.</summary>
    sealed record Query(string Name, IReadOnlyList<string> Positive, IReadOnlyList<string> Negative);

    /// <summary>
    /// Why a query cannot be answered (its first key without a vector, with close spellings), or null. A fastText set's
    /// word outside the vocabulary has one, from its n-grams.
    /// </summary>
    static string? Unknown(KeyedVectors kv, IEnumerable<string> keys)
    {
        foreach (string key in keys)
        {
            if (kv.Contains(key)) continue;
            try
            {
                kv.GetVector(key);
            }
            catch (KeyNotFoundException e)
            {
                return e.Message;
            }
        }
        return null;
    }

    /// <summary>The values of <c>--vector</c>: <paramref name="dims"/> numbers, comma-separated.</summary>
    static float[] ParseVector(string list, int dims)
    {
        var values = CommaList.Numbers(list, "--vector");
        if (values.Length != dims) throw new ArgumentException($"--vector has {values.Length} values, the vectors have {dims} dimensions");
        return values.Select(v => (float)v).ToArray();
    }

    /// <summary>A ranked table of neighbours titled <paramref name="title"/>; keys shown visibly (<see cref="KeyText.Visible"/>).</summary>
    public static Table Table(string title, string scoreName, IReadOnlyList<Neighbor> neighbors)
    {
        var table = new Table().Title(Markup.Escape(KeyText.Visible(title)))
            .AddColumn("#").AddColumn("key").AddColumn(new TableColumn(scoreName).RightAligned());
        for (int r = 0; r < neighbors.Count; r++) table.AddRow((r + 1).ToString(), Markup.Escape(KeyText.Visible(neighbors[r].Key)),
            neighbors[r].Similarity.ToString("F4"));
        return table;
    }
}
