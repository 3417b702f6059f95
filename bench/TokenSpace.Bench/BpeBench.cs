using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TokenSpace.Formats;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;

namespace TokenSpace.Bench;

/// <summary>
/// <c>bpe [FILE] [--runs N]</c>: GPT-2 encode throughput (MB/s of UTF-8 input) on tinyshakespeare:
/// the pre-tokenising scanner against the generated Regex, TokenSpace on one thread and on all threads
/// (warm and cold piece cache), Microsoft.ML.Tokenizers' <c>TiktokenTokenizer</c> for "gpt2" in the same
/// process (its data package holds the ranks TokenSpace loads), then npm tiktoken (r50k_base) and
/// gpt-3-encoder through node (tools/reference/bpe_bench.mjs), with a check that all produce the same ids.
/// </summary>
static partial class BpeBench
{
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Pattern();

    public static void Run(string[] args)
    {
        string repo = Measure.RepoRoot();
        var shakespeare = DataCache.Find("tinyshakespeare")!;
        string file = DataCache.IsPresent(shakespeare) ? DataCache.PathOf(shakespeare) : Path.GetFullPath(Path.Combine(repo, "..", "shared", "data", "tinyshakespeare.txt"));
        int runs = 10;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--runs") runs = int.Parse(args[++i]);
            else file = args[i];
        }
        if (!File.Exists(file))
        {
            Measure.Emit(new { bench = "bpe", skipped = $"{file} not found" });
            return;
        }
        string text = File.ReadAllText(file);
        double megabytes = Encoding.UTF8.GetByteCount(text) / 1e6;
        var loadWatch = Stopwatch.StartNew();
        var tokenizer = Gpt2BpeTokenizer.Create();
        Measure.Emit(new { bench = "bpe", stage = "load", impl = "tokenspace", ms = loadWatch.Elapsed.TotalMilliseconds });

        // Pre-tokenisation alone: which way of applying the pattern is faster (both give the same
        // pieces on this text; only the scanner is exact outside the BMP).
        int scannerPieces = 0, regexPieces = 0;
        double scannerMs = Measure.MedianMs(() =>
        {
            scannerPieces = 0;
            for (int i = 0; i < text.Length; scannerPieces++) i = Gpt2PreTokenizer.NextPiece(text, i);
        }, runs);
        double regexMs = Measure.MedianMs(() =>
        {
            regexPieces = 0;
            foreach (var _ in Gpt2Pattern().EnumerateMatches(text)) regexPieces++;
        }, runs);
        Measure.Emit(new { bench = "bpe", stage = "pretokenize", impl = "scanner", mb_per_s = megabytes / (scannerMs / 1000), ms = scannerMs, pieces = scannerPieces });
        Measure.Emit(new { bench = "bpe", stage = "pretokenize", impl = "generated-regex", mb_per_s = megabytes / (regexMs / 1000), ms = regexMs, pieces = regexPieces });

        int[] ids = tokenizer.EncodeToIds(text);
        uint hash = Fnv1a(ids);
        var ours = new Dictionary<(int, string), double>();
        foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
        {
            Threads.Count = threads;
            foreach (string cache in new[] { "warm", "cold" })
            {
                bool cold = cache == "cold";
                int[] result = [];
                double ms = Measure.MedianMs(() =>
                {
                    if (cold) tokenizer.ClearCache();
                    result = threads == 1 ? tokenizer.EncodeToIds(text) : tokenizer.EncodeToIdsParallel(text);
                }, runs);
                ours[(threads, cache)] = megabytes / (ms / 1000);
                Measure.Emit(new { bench = "bpe", impl = "tokenspace", threads, cache, mb_per_s = megabytes / (ms / 1000), ms, tokens = result.Length, ids_fnv1a = Fnv1a(result) });
            }
        }

        // Microsoft.ML.Tokenizers on one thread, alternating with TokenSpace's warm single-thread encode so
        // both see the same machine load; medians of the rounds.
        loadWatch.Restart();
        var microsoft = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForModel("gpt2");
        Measure.Emit(new { bench = "bpe", stage = "load", impl = "microsoft-ml-tokenizers", ms = loadWatch.Elapsed.TotalMilliseconds });
        Threads.Count = 1;
        var theirs = new List<double>();
        var mine = new List<double>();
        int[] microsoftIds = [];
        for (int round = 0; round < Math.Max(3, runs / 2); round++)
        {
            theirs.Add(Measure.MedianMs(() => microsoftIds = [.. microsoft.EncodeToIds(text)], 1, round == 0 ? 1 : 0));
            mine.Add(Measure.MedianMs(() => tokenizer.EncodeToIds(text), 1, 0));
        }
        double theirsMs = Measure.Median(theirs), mineMs = Measure.Median(mine);
        Measure.Emit(new
        {
            bench = "bpe",
            impl = "microsoft-ml-tokenizers",
            threads = 1,
            mb_per_s = megabytes / (theirsMs / 1000),
            ms = theirsMs,
            tokens = microsoftIds.Length,
            ids_fnv1a = Fnv1a(microsoftIds),
            same_ids = microsoftIds.AsSpan().SequenceEqual(ids),
            tokenspace_ms_same_rounds = mineMs,
            tokenspace_1_thread_warm_ratio = theirsMs / mineMs,
            rounds_ms = theirs,
            tokenspace_rounds_ms = mine,
        });

        foreach (var line in RunNode(repo, file, Math.Min(runs, 5)))
        {
            Measure.Emit(line);
            if (line.TryGetProperty("mb_per_s", out var speed))
            {
                string impl = line.GetProperty("impl").GetString()!;
                bool same = line.GetProperty("ids_fnv1a").GetUInt32() == hash && line.GetProperty("tokens").GetInt32() == ids.Length;
                Measure.Emit(new
                {
                    bench = "bpe",
                    versus = impl,
                    same_ids = same,
                    tokenspace_1_thread_warm_ratio = ours[(1, "warm")] / speed.GetDouble(),
                    tokenspace_1_thread_cold_ratio = ours[(1, "cold")] / speed.GetDouble(),
                    tokenspace_all_threads_warm_ratio = ours[(Environment.ProcessorCount, "warm")] / speed.GetDouble(),
                });
            }
        }
    }

    /// <summary>Runs tools/reference/bpe_bench.mjs; returns its JSON lines, or one "skipped" line when node or its modules are missing.</summary>
    static List<JsonElement> RunNode(string repo, string file, int runs)
    {
        string script = Path.Combine(repo, "tools", "reference", "bpe_bench.mjs");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { script, file, runs.ToString() }) start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return [Skipped("node is not installed")];
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            var lines = new List<JsonElement>();
            while (process.StandardOutput.ReadLine() is { } line) lines.Add(JsonDocument.Parse(line).RootElement.Clone());
            process.WaitForExit();
            if (process.ExitCode != 0) lines.Add(Skipped($"node reference skipped: {error.Result.Trim()}"));
            return lines;
        }
    }

    static JsonElement Skipped(string why) => JsonSerializer.SerializeToElement(new { bench = "bpe", impl = "node", skipped = why });

    static uint Fnv1a(int[] ids)
    {
        uint h = 0x811c9dc5;
        foreach (int id in ids) h = (h ^ (uint)id) * 0x01000193;
        return h;
    }
}
