using System.Diagnostics;
using System.Text.Json;
using TokenSpace.Evaluation;
using TokenSpace.Formats;

namespace TokenSpace.Bench;

/// <summary>
/// <c>vectors</c>: loading GloVe 100d (text and native), MostSimilar latency and batched throughput,
/// and the full analogy evaluation, then the same work in gensim (tools/reference/gensim_bench.py,
/// run here as a child process) and the ratios. Needs <c>tokenspace data fetch glove-100d</c> and
/// ../shared/data/{questions-words.txt,wordsim353.tsv}. Options: <c>--no-gensim</c>, <c>--skip-analogies</c>.
/// </summary>
static class VectorsBench
{
    public static void Run(string[] args)
    {
        bool gensim = !args.Contains("--no-gensim");
        bool analogies = !args.Contains("--skip-analogies");
        string native = PretrainedVectors.Resolve("glove-100d")
            ?? throw new InvalidOperationException("glove-100d is not in the cache; run `tokenspace data fetch glove-100d` first");
        string data = Path.Combine(Measure.RepoRoot(), "..", "shared", "data");
        string questions = Path.Combine(data, "questions-words.txt");
        string pairs = Path.Combine(data, "wordsim353.tsv");

        // The GloVe text both sides load: written once from the native file, beside it in the cache.
        string text = Path.ChangeExtension(native, ".txt");
        if (!File.Exists(text))
        {
            using var kv0 = VectorsFile.Load(native);
            VectorsFile.Save(kv0, text, VectorFormat.GloVe);
        }

        var ours = new Dictionary<string, double>();
        double loadText = Measure.MedianMs(() => VectorsFile.Load(text).Dispose(), runs: 3, warmup: 1) / 1000;
        Emit(ours, "load_text", "seconds", loadText, new { rows = 341479 });
        double loadNative = Measure.MedianMs(() => VectorsFile.Load(native).Dispose(), runs: 10, warmup: 2);
        Emit(ours, "load_native", "median_ms", loadNative, new { });

        using var kv = VectorsFile.Load(native);
        var words = kv.Keys.Where(k => k.All(char.IsAsciiLetter)).Take(1000).ToArray();
        kv.MostSimilar(words[0]); // builds the unit rows and the int8 copy once
        var times = new double[words.Length];
        for (int i = 0; i < words.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            kv.MostSimilar(words[i], 10);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        Emit(ours, "most_similar_single", "median_ms", (times[499] + times[500]) / 2, new { queries = words.Length });

        // Key lookups (the key → row table): every key once in row order, the same as new strings in a random order (as
        // queries come), and as many keys that are not there.
        var hits = kv.Keys.ToArray();
        var random = hits.OrderBy(k => (uint)k.GetHashCode()).Select(k => new string(k.AsSpan())).ToArray();
        var misses = hits.Select(k => k + "\u00b7").ToArray();
        foreach (var (name, keys) in new[] { ("lookup_hit", hits), ("lookup_random", random), ("lookup_miss", misses) })
        {
            long found = 0;
            double ms = Measure.MedianMs(() =>
            {
                foreach (string k in keys) found += kv.TryGetIndex(k);
            }, runs: 5, warmup: 1);
            Emit(ours, name, "ns_per_key", ms * 1e6 / keys.Length, new { keys = keys.Length, found });
        }

        var batch = words.Select(w => ((IReadOnlyList<string>)[w], (IReadOnlyList<string>)[])).ToList();
        double batchSeconds = Measure.MedianMs(() => kv.MostSimilarBatch(batch, 10), runs: 3, warmup: 1) / 1000;
        Emit(ours, "most_similar_batch", "seconds", batchSeconds, new { queries = words.Length });

        var pairResult = kv.EvaluateWordPairs(pairs);
        Measure.Emit(new { bench = "evaluate_pairs", impl = "tokenspace", pearson = pairResult.Pearson, spearman = pairResult.Spearman, oov_ratio = pairResult.OovRatio });

        AnalogyResult? analogy = null;
        if (analogies)
        {
            long start = Stopwatch.GetTimestamp();
            analogy = kv.EvaluateWordAnalogies(questions);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            Emit(ours, "evaluate_analogies", "seconds", seconds, new { accuracy = analogy.Accuracy, correct = analogy.Correct, incorrect = analogy.Incorrect });
        }
        if (gensim) RunGensim(ours, text, questions, pairs, analogies, pairResult, analogy);
    }

    static void Emit(Dictionary<string, double> ours, string bench, string unit, double value, object extra)
    {
        ours[bench] = value;
        var line = JsonSerializer.SerializeToNode(extra)!.AsObject();
        line.Insert(0, "bench", bench);
        line.Insert(1, "impl", "tokenspace");
        line.Insert(2, unit, value);
        line.Insert(3, "threads", TokenSpace.Tensors.Threads.Count);
        Console.WriteLine(line.ToJsonString());
    }

    /// <summary>Runs gensim on the same files, echoes its lines, then prints gensim ÷ TokenSpace for each timing and whether the answers agree.</summary>
    static void RunGensim(Dictionary<string, double> ours, string text, string questions, string pairs, bool analogies, WordPairsResult pairResult, AnalogyResult? analogy)
    {
        string script = Path.Combine(Measure.RepoRoot(), "tools", "reference", "gensim_bench.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true };
        foreach (string a in new[] { script, text, questions, pairs }.Concat(analogies ? [] : ["--skip-analogies"])) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        while (process.StandardOutput.ReadLine() is { } line)
        {
            Console.WriteLine(line);
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            string bench = root.GetProperty("bench").GetString()!;
            if (bench == "evaluate_pairs")
            {
                Measure.Emit(new
                {
                    bench = "compare_pairs",
                    pearson_delta = Math.Abs(root.GetProperty("pearson").GetDouble() - pairResult.Pearson),
                    spearman_delta = Math.Abs(root.GetProperty("spearman").GetDouble() - pairResult.Spearman),
                });
                continue;
            }
            if (bench == "evaluate_analogies" && analogy is not null)
            {
                var theirs = root.GetProperty("sections").EnumerateArray().Select(s => (s.GetProperty("correct").GetInt32(), s.GetProperty("incorrect").GetInt32())).ToList();
                var mine = analogy.Sections.Select(s => (s.Correct, s.Incorrect)).Append((analogy.Correct, analogy.Incorrect)).ToList();
                Measure.Emit(new { bench = "compare_analogies", identical_counts = theirs.SequenceEqual(mine), gensim_correct = theirs[^1].Item1, tokenspace_correct = analogy.Correct });
            }
            string unit = root.TryGetProperty("median_ms", out _) ? "median_ms" : "seconds";
            if (ours.TryGetValue(bench, out double mineValue) && root.TryGetProperty(unit, out var value))
            {
                Measure.Emit(new { bench = bench + "_ratio", gensim_over_tokenspace = value.GetDouble() / mineValue });
            }
        }
        process.WaitForExit();
    }
}
