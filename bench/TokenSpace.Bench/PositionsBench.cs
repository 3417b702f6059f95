using System.Diagnostics;
using TokenSpace.Formats;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Bench;

/// <summary>
/// <c>positions</c>: the four position encodings (<c>train --positions learned|sinusoidal|rope|none</c>) on
/// shakespeare-char-small, trained side by side from the same seed on ../shared/data/tinyshakespeare.txt as
/// <c>tokenspace train --data tinyshakespeare --preset shakespeare-char-small --steps N --positions P</c> would: the
/// validation loss over the whole validation split after N steps, and training tokens/s. The four runs take turns step
/// by step, so a shared machine's drift slows them alike; the timed steps (after a warmup of a tenth) fall into
/// <c>--rounds</c> blocks, each block gives every encoding a rate and each encoding's rate relative to learned in the
/// same block, and the line reports the medians with every block's rate.
/// Options: <c>--steps N</c> (default 400), <c>--rounds N</c> (default 5), <c>--threads N</c>.
/// </summary>
static class PositionsBench
{
    public static void Run(string[] args)
    {
        int threads = Threads.Count; // Program applies --threads before the bench runs
        int steps = Measure.Option(args, "--steps", 400);
        int rounds = Measure.Option(args, "--rounds", 5);
        string data = Path.GetFullPath(Path.Combine(Measure.RepoRoot(), "..", "shared", "data", "tinyshakespeare.txt"));
        if (!File.Exists(data))
        {
            Measure.Emit(new { bench = "positions", skipped = $"{data} is absent" });
            return;
        }
        var preset = Presets.ShakespeareCharSmall;
        var options = preset.Options with { Steps = steps, EvalEvery = 0 };
        string text = File.ReadAllText(data);
        var tokenizer = CharTokenizer.TrainStream(text);
        var (train, val) = TextData.FromText(text, tokenizer, options.Mode, data).Split(options.Seed);
        var kinds = Enum.GetValues<PositionKind>();
        var trainers = kinds.Select(p => Trainer.Create(
            new Gpt(preset.Model(tokenizer.VocabSize) with { Positions = p }, options.BatchSize), tokenizer, options, train, val)).ToArray();

        int warmup = Math.Max(1, steps / 10), timed = steps - warmup;
        var seconds = new double[kinds.Length, rounds];
        var tokens = new long[kinds.Length, rounds];
        var lastLosses = kinds.Select(_ => new Queue<double>()).ToArray();
        for (int step = 0; step < steps; step++)
        {
            int round = step < warmup ? -1 : Math.Min(rounds - 1, (step - warmup) * rounds / Math.Max(1, timed));
            for (int k = 0; k < kinds.Length; k++)
            {
                long start = Stopwatch.GetTimestamp();
                var (loss, _) = trainers[k].TrainStep();
                double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (round >= 0)
                {
                    seconds[k, round] += elapsed;
                    tokens[k, round] += trainers[k].LastTokens;
                }
                lastLosses[k].Enqueue(loss);
                if (lastLosses[k].Count > 50) lastLosses[k].Dequeue();
            }
        }
        double Rate(int k, int round) => tokens[k, round] / seconds[k, round];
        for (int k = 0; k < kinds.Length; k++)
        {
            var rates = Enumerable.Range(0, rounds).Select(r => Rate(k, r)).ToArray();
            var ratios = Enumerable.Range(0, rounds).Select(r => Rate(k, r) / Rate(0, r)).ToArray();
            Measure.Emit(new
            {
                bench = "positions", config = preset.Name, positions = Checkpoint.PositionNames[kinds[k]], steps, seed = options.Seed, threads,
                parameters = trainers[k].Model.Parameters.Length,
                val_loss = Math.Round(trainers[k].ValidationLoss(all: true), 4), // the whole validation split, as train reports at its end
                train_loss = Math.Round(lastLosses[k].Average(), 4), // mean of the last 50 steps
                tokens_per_second = Math.Round(Measure.Median(rates)),
                rounds = rates.Select(r => Math.Round(r)).ToArray(),
                ratio_vs_learned = Math.Round(Measure.Median(ratios), 3),
                load_average = Peak.LoadAverage(),
            });
        }
    }
}
