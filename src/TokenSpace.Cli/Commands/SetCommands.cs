using System.CommandLine;
using System.Globalization;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// The verbs of gensim's set queries, each a thin wrapper of one <see cref="KeyedVectors"/> method:
/// <c>doesnt-match</c>, <c>rank-by-centrality</c>, <c>rank</c>, <c>closer-than</c>, <c>n-similarity</c>,
/// <c>mean-vector</c>, <c>distances</c>, <c>relative-cosine-similarity</c>.
/// </summary>
static class SetCommands
{
    public static IEnumerable<Command> Create() =>
        [DoesntMatch(), RankByCentrality(), Rank(), CloserThan(), NSimilarity(), MeanVector(), Distances(), RelativeCosineSimilarity()];

    /// <summary>A verb over <c>--vectors</c> whose <paramref name="run"/> returns the JSON document and the human line(s).</summary>
    static Command Verb(string name, string description, Func<ParseResult, KeyedVectors, (object Json, string Text)> run,
        params Symbol[] symbols)
    {
        var vectors = VectorOptions.Vectors();
        var command = new Command(name, description) { vectors };
        foreach (var s in symbols)
        {
            if (s is Argument a) command.Arguments.Add(a);
            else command.Options.Add((Option)s);
        }
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            using var kv = VectorOptions.Load(parse, vectors);
            var (json, text) = run(parse, kv);
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(json);
            else Console.WriteLine(text);
            return 0;
        }));
        return command;
    }

    static Argument<string[]> Words(string description) => new("words") { Description = description, Arity = ArgumentArity.OneOrMore };

    static Argument<string> Word(string name, string description) => new(name) { Description = description };

    static string F(float x) => x.ToString("F6", CultureInfo.InvariantCulture);

    static Command DoesntMatch()
    {
        var words = Words("Keys; unknown ones are ignored, as in gensim");
        return Verb("doesnt-match", "The word furthest from the mean of the others (gensim's doesnt_match)", (p, kv) =>
        {
            string odd = kv.DoesntMatch(p.GetValue(words)!);
            return (new { result = odd }, odd);
        }, words);
    }

    static Command RankByCentrality()
    {
        var words = Words("Keys; unknown ones are ignored, as in gensim");
        var raw = new Option<bool>("--raw") { Description = "Use the raw vectors for the centroid, not the unit vectors (gensim's " +
            "use_norm=False)" };
        return Verb("rank-by-centrality", "Words ranked by cosine similarity to their centroid, most central first", (p, kv) =>
        {
            var ranked = kv.RankByCentrality(p.GetValue(words)!, useNorm: !p.GetValue(raw));
            return (new { results = ranked.Select(n => new { key = n.Key, similarity = n.Similarity }) },
                string.Join('\n', ranked.Select((n, i) => $"{i + 1,3}  {n.Key}  {F(n.Similarity)}")));
        }, words, raw);
    }

    static Command Rank()
    {
        var a = Word("a", "The word whose neighbours are ranked");
        var b = Word("b", "The word whose rank among them to tell");
        return Verb("rank", "1 + how many keys are closer to A than B is (gensim's rank)", (p, kv) =>
        {
            int rank = kv.Rank(p.GetValue(a)!, p.GetValue(b)!);
            return (new { a = p.GetValue(a), b = p.GetValue(b), rank }, rank.ToString(CultureInfo.InvariantCulture));
        }, a, b);
    }

    static Command CloserThan()
    {
        var a = Word("a", "The centre word");
        var b = Word("b", "The word whose similarity to A is the bar");
        return Verb("closer-than", "Keys closer to A than B is, in row order (gensim's closer_than)", (p, kv) =>
        {
            var keys = kv.CloserThan(p.GetValue(a)!, p.GetValue(b)!);
            return (new { a = p.GetValue(a), b = p.GetValue(b), keys }, string.Join('\n', keys));
        }, a, b);
    }

    static Command NSimilarity()
    {
        var first = new Option<string>("--first") { Description = "First set of keys, comma-separated", Required = true };
        var second = new Option<string>("--second") { Description = "Second set of keys, comma-separated", Required = true };
        return Verb("n-similarity", "Cosine similarity of the means of two sets of keys (gensim's n_similarity)", (p, kv) =>
        {
            float s = kv.NSimilarity(KeyText.SplitList(p.GetValue(first)!, kv), KeyText.SplitList(p.GetValue(second)!, kv));
            return (new { similarity = s }, F(s));
        }, first, second);
    }

    static Command MeanVector()
    {
        var words = Words("Keys to average; unknown ones are ignored unless --strict");
        var weights = new Option<string?>("--weights") { Description = "One weight per key, comma-separated (default all 1)" };
        var raw = new Option<bool>("--raw")
        {
            Description = "Average the raw vectors, not the unit vectors (gensim's pre_normalize=False)",
        };
        var unit = new Option<bool>("--unit") { Description = "Scale the mean to unit length (gensim's post_normalize=True)" };
        var strict = new Option<bool>("--strict") { Description = "Fail on an unknown key (gensim's ignore_missing=False)" };
        return Verb("mean-vector", "The weighted mean of some keys' vectors (gensim's get_mean_vector)", (p, kv) =>
        {
            var w = p.GetValue(weights) is { } list ? CommaList.Numbers(list, "--weights") : null;
            var mean = kv.GetMeanVector(p.GetValue(words)!, w, preNormalize: !p.GetValue(raw), postNormalize: p.GetValue(unit),
                ignoreMissing: !p.GetValue(strict));
            return (new { vector = mean }, string.Join(' ', mean.Select(x => x.ToString("R", CultureInfo.InvariantCulture))));
        }, words, weights, raw, unit, strict);
    }

    static Command Distances()
    {
        var word = Word("word", "The word to measure from");
        var others = new Argument<string[]>("others") { Description = "Keys to measure to (default: every key, in row order)",
            Arity = ArgumentArity.ZeroOrMore };
        return Verb("distances", "Cosine distances (1 − cos) from a word to others (gensim's distances)", (p, kv) =>
        {
            var to = p.GetValue(others)!;
            var d = kv.Distances(p.GetValue(word)!, to);
            var keys = to.Length > 0 ? to : kv.Keys;
            return (new { word = p.GetValue(word), distances = keys.Select((k, i) => new { key = k, distance = d[i] }) },
                string.Join('\n', keys.Select((k, i) => $"{k}  {F(d[i])}")));
        }, word, others);
    }

    static Command RelativeCosineSimilarity()
    {
        var a = Word("a", "The word whose neighbours set the scale");
        var b = Word("b", "The other word");
        var top = new Option<int>("--top") { Description = "How many of A's neighbours to sum", DefaultValueFactory = _ => 10 };
        return Verb("relative-cosine-similarity", "cos(A, B) over the sum of A's top-N similarities (gensim's relative_cosine_similarity)",
            (p, kv) =>
        {
            double rcs = kv.RelativeCosineSimilarity(p.GetValue(a)!, p.GetValue(b)!, p.GetValue(top));
            return (new { a = p.GetValue(a), b = p.GetValue(b), top = p.GetValue(top), relative_cosine_similarity = rcs },
                rcs.ToString("F6", CultureInfo.InvariantCulture));
        }, a, b, top);
    }
}
