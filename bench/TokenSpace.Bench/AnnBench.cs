using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.Tensors;
using TokenSpace.Vectors;

namespace TokenSpace.Bench;

/// <summary>
/// <c>ann</c>: TokenSpace's HNSW index beside Debian's hnswlib and faiss HNSW on GloVe 100d (cosine),
/// in the same run, taking turns round by round. Each round every system builds its index (same M and
/// efConstruction, all threads) and answers 1,000 query words at each expansion (ef) on 1 and 2 threads;
/// recall@10 is against TokenSpace's exact search, the query word left out. The query words are rows
/// 7, 348, 689, … (every 341st row: all frequencies, used for nothing else). Medians over the rounds, then
/// the targets: recall ≥ 0.95 at a QPS ≥ hnswlib's at that recall (its curve interpolated), and build time
/// ≤ hnswlib's. A query rate is the median of <c>--repeats</c> passes over the 1,000 queries (one pass is a fraction of a
/// second, and the first also faults the index's pages in). Options: <c>--rounds R</c> (3), <c>--repeats P</c> (5), <c>--m M</c> (16),
/// <c>--ef-construction E</c> (128), <c>--efs 16,24,…</c>, <c>--dtype f32|f16|i8</c>, <c>--references hnswlib,faiss-hnsw</c> (both).
/// </summary>
static class AnnBench
{
    const int Queries = 1000;

    static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Run(string[] args)
    {
        int rounds = Measure.Option(args, "--rounds", 3);
        int repeats = Math.Max(1, Measure.Option(args, "--repeats", 5));
        int m = Measure.Option(args, "--m", 16);
        int efConstruction = Measure.Option(args, "--ef-construction", 128);
        int[] efs = (Measure.Option(args, "--efs") ?? "16,24,32,48,64,96,128,192").Split(',').Select(int.Parse).ToArray();
        var dtype = (Measure.Option(args, "--dtype") ?? "f32") switch
        {
            "f16" => IndexDtype.Float16,
            "i8" => IndexDtype.Int8,
            _ => IndexDtype.Float32,
        };
        string references = Measure.Option(args, "--references") ?? "hnswlib,faiss-hnsw";
        int[] threadCounts = [1, 2];
        string native = PretrainedVectors.Resolve("glove-100d")
            ?? throw new InvalidOperationException("glove-100d is not in the cache; run `tokenspace data fetch glove-100d` first");
        using var kv = VectorsFile.Load(native);
        int[] queryRows = Enumerable.Range(0, Queries).Select(i => 7 + 341 * i).ToArray();
        int d = kv.Dimensions;
        var flat = new float[Queries * d];
        for (int q = 0; q < Queries; q++) kv.Row(queryRows[q], normalized: true).CopyTo(flat.AsSpan(q * d, d));
        int[][] exclude = queryRows.Select(r => new[] { r }).ToArray();
        var truth = kv.SearchRows(flat, exclude, 10, kv.Count, exact: true);

        string dir = Directory.CreateTempSubdirectory("tokenspace-ann-bench").FullName;
        try
        {
            string unitPath = Path.Combine(dir, "unit.npy"), queriesPath = Path.Combine(dir, "queries.npy"), truthPath = Path.Combine(dir, "truth.npy");
            WriteNpy(unitPath, "<f4", [kv.Count, d], s => s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(kv.NormalizedVectors)));
            WriteNpy(queriesPath, "<i8", [Queries], s => { foreach (long r in queryRows) s.Write(BitConverter.GetBytes(r)); });
            WriteNpy(truthPath, "<i8", [Queries, 10], s =>
            {
                foreach (var row in truth) foreach (var (r, _) in row) s.Write(BitConverter.GetBytes((long)r));
            });

            var lines = new List<JsonElement>();
            for (int round = 0; round < rounds; round++)
            {
                lines.AddRange(RunOurs(kv, Path.Combine(dir, "glove.ann"), new ApproximateIndexOptions
                {
                    Connectivity = m,
                    ExpansionAdd = efConstruction,
                    Dtype = dtype,
                }, flat, exclude, truth, efs, threadCounts, round, repeats));
                var (python, error) = TorchReference.RunScript("ann_bench.py", unitPath, queriesPath, truthPath, "--m", $"{m}",
                    "--ef-construction", $"{efConstruction}", "--efs", string.Join(',', efs), "--threads", string.Join(',', threadCounts), "--round", $"{round}",
                    "--repeats", $"{repeats}", "--systems", references);
                if (error is not null) Measure.Emit(new { bench = "ann", system = "python", error });
                foreach (var line in python) Console.WriteLine(line.GetRawText());
                lines.AddRange(python);
            }
            Summarise(lines, m, efConstruction, rounds);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static List<JsonElement> RunOurs(KeyedVectors kv, string path, ApproximateIndexOptions options, float[] flat, int[][] exclude,
        (int Row, float Score)[][] truth, int[] efs, int[] threadCounts, int round, int repeats)
    {
        var lines = new List<JsonElement>();
        void Emit(object line)
        {
            var element = JsonSerializer.SerializeToElement(line, Snake);
            Console.WriteLine(element.GetRawText());
            lines.Add(element);
        }
        int saved = Threads.Count;
        try
        {
            Threads.Count = Environment.ProcessorCount;
            var clock = Stopwatch.StartNew();
            using var index = kv.BuildIndex(path, options);
            Emit(new
            {
                bench = "ann", system = "tokenspace-hnsw", phase = "build", seconds = clock.Elapsed.TotalSeconds, threads = Threads.Count,
                connectivity = options.Connectivity, expansion_add = options.ExpansionAdd, dtype = options.Dtype.ToString(), round,
                simd = ApproximateIndex.HardwareAcceleration, load = Peak.LoadAverage(),
            });
            foreach (int ef in efs)
            {
                index.Expansion = ef;
                foreach (int threads in threadCounts)
                {
                    Threads.Count = threads;
                    var found = truth;
                    var passes = new List<double>();
                    for (int pass = 0; pass < repeats; pass++)
                    {
                        clock.Restart();
                        found = kv.SearchRows(flat, exclude, 10, kv.Count, approximate: true);
                        passes.Add(clock.Elapsed.TotalSeconds);
                    }
                    double seconds = Measure.Median(passes);
                    Emit(new
                    {
                        bench = "ann", system = "tokenspace-hnsw", expansion = ef, recall_at_10 = Recall(found, truth),
                        qps = flat.Length / kv.Dimensions / seconds, threads, round, load = Peak.LoadAverage(),
                    });
                }
            }
        }
        finally
        {
            Threads.Count = saved;
        }
        return lines;
    }

    static double Recall((int Row, float Score)[][] found, (int Row, float Score)[][] truth)
    {
        int hits = 0;
        for (int q = 0; q < truth.Length; q++) hits += found[q].Select(p => p.Row).Intersect(truth[q].Select(p => p.Row)).Count();
        return (double)hits / (truth.Length * 10);
    }

    /// <summary>Medians over rounds per system, expansion and thread count; then the two targets.</summary>
    static void Summarise(List<JsonElement> lines, int m, int efConstruction, int rounds)
    {
        var builds = lines.Where(l => l.TryGetProperty("phase", out _))
            .GroupBy(l => l.GetProperty("system").GetString()!)
            .ToDictionary(g => g.Key, g => Measure.Median(g.Select(l => l.GetProperty("seconds").GetDouble())));
        foreach (var (system, seconds) in builds)
        {
            Measure.Emit(new { bench = "ann", system, phase = "build", median_seconds = seconds, rounds, connectivity = m, expansion_add = efConstruction, load = Peak.LoadAverage() });
        }
        var points = lines.Where(l => l.TryGetProperty("qps", out _))
            .GroupBy(l => (System: l.GetProperty("system").GetString()!, Ef: l.GetProperty("expansion").GetInt32(), Threads: l.GetProperty("threads").GetInt32()))
            .Select(g => (g.Key.System, g.Key.Ef, g.Key.Threads,
                Recall: Measure.Median(g.Select(l => l.GetProperty("recall_at_10").GetDouble())),
                Qps: Measure.Median(g.Select(l => l.GetProperty("qps").GetDouble()))))
            .OrderBy(p => p.System).ThenBy(p => p.Threads).ThenBy(p => p.Ef).ToList();
        foreach (var p in points)
        {
            Measure.Emit(new { bench = "ann", system = p.System, expansion = p.Ef, recall_at_10 = p.Recall, qps = p.Qps, threads = p.Threads, median_of = rounds });
        }
        foreach (int threads in points.Select(p => p.Threads).Distinct())
        {
            var ours = points.Where(p => p.System == "tokenspace-hnsw" && p.Threads == threads && p.Recall >= 0.95).OrderBy(p => p.Ef).FirstOrDefault();
            var theirs = points.Where(p => p.System == "hnswlib" && p.Threads == threads).OrderBy(p => p.Recall).ToList();
            double? reference = ours.System is null ? null : Interpolate(theirs, ours.Recall);
            Measure.Emit(new
            {
                bench = "ann", target = "qps_at_recall_0.95", threads,
                tokenspace_expansion = ours.System is null ? (int?)null : ours.Ef,
                tokenspace_recall = ours.System is null ? (double?)null : ours.Recall,
                tokenspace_qps = ours.System is null ? (double?)null : ours.Qps,
                hnswlib_qps_at_that_recall = reference,
                met = reference is { } r && ours.Qps >= r,
            });
        }
        if (builds.TryGetValue("tokenspace-hnsw", out double ourBuild) && builds.TryGetValue("hnswlib", out double theirBuild))
        {
            Measure.Emit(new { bench = "ann", target = "build_seconds", tokenspace = ourBuild, hnswlib = theirBuild, ratio = ourBuild / theirBuild, met = ourBuild <= theirBuild });
        }
    }

    /// <summary>hnswlib's QPS at <paramref name="recall"/>, linear between its two neighbouring points; null outside its curve.</summary>
    static double? Interpolate(List<(string System, int Ef, int Threads, double Recall, double Qps)> curve, double recall)
    {
        for (int i = 0; i + 1 < curve.Count; i++)
        {
            var (a, b) = (curve[i], curve[i + 1]);
            if (a.Recall <= recall && recall <= b.Recall)
            {
                return b.Recall == a.Recall ? Math.Max(a.Qps, b.Qps) : a.Qps + (b.Qps - a.Qps) * (recall - a.Recall) / (b.Recall - a.Recall);
            }
        }
        return null;
    }

    /// <summary>A version-1 .npy file of <paramref name="descr"/> values in C order.</summary>
    static void WriteNpy(string path, string descr, long[] shape, Action<Stream> body)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        header = header.PadRight((header.Length + 10 + 1 + 63) / 64 * 64 - 10 - 1) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        body(stream);
    }
}
