using System.Diagnostics;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Bench;

/// <summary>
/// <c>nanogpt</c>: nanoGPT's documented CPU recipe for shakespeare_char (4 layers, 4 heads, 128 channels, block 64,
/// batch 12, no biases, no dropout, AdamW 1e-3 β 0.9/0.99 wd 0.1, clip 1.0, 100 warmup iterations, cosine to 1e-4 at
/// 2,000) trained for <c>--iters</c> iterations (default 2,000) by TokenSpace and by tools/reference/nanogpt_train.py
/// (nanoGPT's model.py / train.py loop in PyTorch) on the same threads, in the same run. Both split the corpus as
/// nanoGPT's prepare.py does (first 90 % train, last 10 % val), draw random windows, and evaluate every 250
/// iterations on 20 batches of each split; both then report one protocol: the final model's mean loss over the whole
/// val split in consecutive windows of 64. The two differ where TokenSpace differs from nanoGPT by design: GELU's tanh
/// form (nanoGPT: erf), no weight decay on wte/wpe (nanoGPT decays every 2-D tensor), TokenSpace's own RNG.
/// Options: <c>--iters N</c>, <c>--rounds N</c> (default 1), <c>--no-torch</c>.
/// </summary>
static class NanoGptBench
{
    public static void Run(string[] args)
    {
        int iters = Measure.Option(args, "--iters", 2000);
        int rounds = Measure.Option(args, "--rounds", 1);
        int threads = Threads.Count;
        string data = Path.GetFullPath(Path.Combine(Measure.RepoRoot(), "..", "shared", "data", "tinyshakespeare.txt"));
        if (!File.Exists(data))
        {
            Measure.Emit(new { bench = "nanogpt", skipped = $"{data} is absent" });
            return;
        }
        var ours = new List<(double Seconds, double Loss)>();
        var theirs = new List<(double Seconds, double Loss)>();
        for (int round = 0; round < rounds; round++)
        {
            ours.Add(Train(data, iters));
            if (args.Contains("--no-torch")) continue;
            var (lines, error) = TorchReference.RunScript("nanogpt_train.py", "--data", data, "--threads", $"{threads}", "--iters", $"{iters}");
            if (error is not null)
            {
                Measure.Emit(new { bench = "nanogpt", implementation = "nanogpt-pytorch", skipped = error });
                args = [.. args, "--no-torch"];
                continue;
            }
            foreach (var line in lines) Console.WriteLine(line.GetRawText());
            theirs.AddRange(lines.Select(l => (l.GetProperty("train_seconds").GetDouble(), l.GetProperty("val_loss").GetDouble())));
        }
        double seconds = Measure.Median(ours.Select(r => r.Seconds)), loss = Measure.Median(ours.Select(r => r.Loss));
        Measure.Emit(new
        {
            bench = "nanogpt", implementation = "tokenspace", threads, iters, train_seconds = Math.Round(seconds, 2), val_loss = Math.Round(loss, 4),
            rounds = ours.Select(r => new[] { Math.Round(r.Seconds, 2), Math.Round(r.Loss, 4) }).ToArray(),
            time_ratio_vs_nanogpt = theirs.Count > 0 ? Math.Round(seconds / Measure.Median(theirs.Select(r => r.Seconds)), 3) : (double?)null,
            val_loss_delta = theirs.Count > 0 ? Math.Round(loss - Measure.Median(theirs.Select(r => r.Loss)), 4) : (double?)null,
            load_average = Peak.LoadAverage(),
        });
    }

    /// <summary>Trains the recipe for <paramref name="iters"/> iterations; returns the loop's seconds and the final full-val loss.</summary>
    static (double Seconds, double Loss) Train(string path, int iters)
    {
        const int Block = 64, EvalBatches = 20;
        var options = Presets.ShakespeareCharSmall.Options with { Steps = iters, BatchSize = 12, DecaySteps = iters, EvalEvery = 0 };
        string text = File.ReadAllText(path);
        var tokenizer = CharTokenizer.TrainStream(text);
        var (train, val) = TextData.FromText(text, tokenizer, DataMode.Text, path).Split(options.Seed);
        var config = new GptConfig { VocabSize = tokenizer.VocabSize, BlockSize = Block, Layers = 4, Heads = 4, Channels = 128, Bias = false };
        var trainer = Trainer.Create(new Gpt(config, options.BatchSize), tokenizer, options, train, val);
        long start = Stopwatch.GetTimestamp();
        for (int it = 0; ; it++)
        {
            // nanoGPT's estimate_loss: eval_iters batches of each split. TokenSpace's evaluation takes consecutive
            // windows instead of random ones; the work (2 x 20 x 12 x 64 predicted tokens) is the same.
            if (it % 250 == 0 || it == iters)
            {
                Evaluator.Loss(trainer.Model, train, EvalBatches * options.BatchSize * Block);
                Evaluator.Loss(trainer.Model, val, EvalBatches * options.BatchSize * Block);
            }
            if (it == iters) break;
            trainer.TrainStep();
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (seconds, Evaluator.Loss(trainer.Model, val).Loss);
    }
}
