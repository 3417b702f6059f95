using System.Diagnostics;
using TokenSpace.Formats;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Bench;

/// <summary>
/// <c>memory tokens FILE [--tokenizer gpt2|char]</c>: the peak resident memory that tokenising FILE adds, the way
/// <c>train --data FILE</c> does it (gpt2: the token cache, streamed, into a temporary cache; char: the vocabulary and
/// the ids, each from the file read piece by piece), and <c>memory load FILE</c>: what loading a vectors file adds; each beside the file's size. The peak is
/// the process's (VmHWM, reset after a warm-up run on a small file), so run one measurement per process. Tokenising
/// keeps the ids for training (<c>kept_ids_mb</c>, 4 bytes each); the rest of the peak is the tokenizer's working memory.
/// </summary>
static class MemoryBench
{
    public static void Run(string[] args)
    {
        if (args.Length < 2 || args[0] is not ("tokens" or "load"))
        {
            throw new ArgumentException("usage: memory tokens FILE [--tokenizer gpt2|char] | memory load FILE");
        }
        string file = args[1];
        long bytes = new FileInfo(file).Length;
        string tokenizerName = Measure.Option(args, "--tokenizer") ?? "gpt2";
        var tokenizer = args[0] == "tokens" && tokenizerName == "gpt2" ? Gpt2BpeTokenizer.Create() : null;
        // The same work once on a small file first, so the code it runs is compiled before the measurement.
        string warm = Path.GetTempFileName();
        File.WriteAllText(warm, "Warm up, warm up: the tokenizer's code is compiled on this.\n");
        if (args[0] == "tokens") Tokenize(warm, tokenizer);
        File.Delete(warm);
        GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5"); // VmHWM starts again from VmRSS
        long before = Status("VmRSS");
        var clock = Stopwatch.StartNew();
        long count;
        if (args[0] == "load")
        {
            using var kv = VectorsFile.Load(file);
            count = kv.Count;
        }
        else
        {
            count = Tokenize(file, tokenizer);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        long added = Status("VmHWM") - before;
        Measure.Emit(new
        {
            bench = "memory", what = args[0], tokenizer = args[0] == "tokens" ? tokenizerName : null, file = Path.GetFileName(file),
            file_bytes = bytes, count, seconds, rss_before_mb = before / 1e6, peak_added_mb = added / 1e6,
            kept_ids_mb = args[0] == "tokens" ? count * 4 / 1e6 : (double?)null,
            peak_added_over_file = Math.Round((double)added / Math.Max(1, bytes), 2), load = Peak.LoadAverage(),
        });
    }

    /// <summary>Tokenises <paramref name="file"/> as train does: with GPT-2's BPE through the token cache (here a temporary one),
    /// else with a character vocabulary, the file streamed as train streams it; returns the number of ids.</summary>
    static long Tokenize(string file, Gpt2BpeTokenizer? tokenizer)
    {
        if (tokenizer is null)
        {
            return TextData.Load(file, CharTokenizer.FromVocab(CharTokenizer.CharactersOf(file)), DataMode.Text).Stream.Length;
        }
        string cache = Directory.CreateTempSubdirectory("tokenspace-memory-").FullName;
        try
        {
            return TextData.LoadCached(file, tokenizer, cache).Stream.Length;
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    /// <summary>A size field of /proc/self/status (VmRSS, VmHWM) in bytes.</summary>
    static long Status(string field)
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        string kilobytes = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return long.Parse(kilobytes, System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
