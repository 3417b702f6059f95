using System.Diagnostics;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Training;

namespace TokenSpace.Bench;

/// <summary>
/// <c>sample</c>: tokens/s of sampling <c>--tokens</c> (default 250) tokens from a shakespeare-char-small model with
/// block 256 (65 characters, weights as initialised: the speed does not depend on them), with the key/value cache
/// (<see cref="Gpt.Decode"/>) and by recomputing the whole text for every token. The two take turns for
/// <c>--rounds</c> rounds (default 5) after one untimed warm-up each (start-up: JIT, buffers); each reports its
/// median, and both must draw the same tokens. Options: <c>--threads N</c>, <c>--block N</c>.
/// </summary>
static class SampleBench
{
    public static void Run(string[] args)
    {
        int tokens = Measure.Option(args, "--tokens", 250);
        int rounds = Measure.Option(args, "--rounds", 5);
        int block = Measure.Option(args, "--block", 256);
        var config = Presets.ShakespeareCharSmall.Model(65) with { BlockSize = block };
        var model = new Gpt(config, training: false);
        model.Initialize(new Rng(1));
        int[]? reference = null;
        double Time(bool cache)
        {
            long start = Stopwatch.GetTimestamp();
            var drawn = Sampler.Generate(model, [0], tokens, 1f, 0, new Rng(7), kvCache: cache);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            reference ??= drawn;
            if (!drawn.SequenceEqual(reference)) throw new InvalidOperationException($"cache {cache} drew other tokens than the first run");
            return tokens / seconds;
        }
        Time(true);
        Time(false);
        var cached = new List<double>();
        var full = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            cached.Add(Time(true));
            full.Add(Time(false));
        }
        double c = Measure.Median(cached), f = Measure.Median(full);
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null;
        Measure.Emit(new { bench = "sample", implementation = "kv-cache", tokens, block, threads = Threads.Count, tokens_per_second = c, rounds = cached, load_average = load });
        Measure.Emit(new { bench = "sample", implementation = "recompute", tokens, block, threads = Threads.Count, tokens_per_second = f, rounds = full, load_average = load });
        Measure.Emit(new { bench = "sample", speedup = c / f, same_tokens = true });
    }
}
