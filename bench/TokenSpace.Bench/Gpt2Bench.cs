using System.Text.Json;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Bench;

/// <summary>
/// <c>gpt2</c>: one GPT-2-shaped training step (vocab 50257, 2 layers, 12 heads, 768 channels, block 256,
/// batch 4; biases, LayerNorm, GELU, tied lm_head; AdamW with weight decay 0.1 and gradient clipping 1.0) in
/// tokens/s, as the median of <c>--steps N</c> timed steps (default 5) after one warm-up step; then the same
/// model and step in PyTorch (tools/reference/gpt2_train_bench.py) on the same threads, in the same run, and
/// the ratio. The windows are random ids (the speed does not depend on them). <c>--no-torch</c> skips PyTorch.
/// </summary>
static class Gpt2Bench
{
    public static void Run(string[] args)
    {
        int steps = Measure.Option(args, "--steps", 5);
        int threads = Threads.Count;
        var config = new GptConfig { VocabSize = 50257, BlockSize = 256, Layers = 2, Heads = 12, Channels = 768 };
        var options = new TrainOptions
        {
            Steps = int.MaxValue, BatchSize = 4, LearningRate = 6e-4f, Beta1 = 0.9f, Beta2 = 0.95f, WeightDecay = 0.1f, GradClip = 1f,
            Mode = DataMode.Text,
        };
        var rng = new Rng(1);
        var ids = new int[1 << 16];
        for (int k = 0; k < ids.Length; k++) ids[k] = rng.NextInt(config.VocabSize);
        var data = TextData.FromIds(ids);
        // The tokenizer is only kept for saving; a one-character stand-in avoids needing the GPT-2 cache.
        var gpt = new Gpt(config, options.BatchSize);
        var trainer = Trainer.Create(gpt, CharTokenizer.FromVocab(['a']), options, data, data);
        double fma = Peak.Measured(threads);
        double flopsPerToken = Peak.FlopsPerToken(gpt, config.BlockSize);
        double ms = Measure.MedianMs(() => trainer.TrainStep(), runs: steps, warmup: 1);
        // Measured again after the steps, keeping the better figure, as the matmul bench does: the fraction errs low.
        fma = Math.Max(fma, Peak.Measured(threads));
        double tokensPerSecond = options.BatchSize * config.BlockSize / (ms / 1000);
        Measure.Emit(new
        {
            bench = "gpt2", implementation = "tokenspace", threads, steps, ms_per_step = ms, tokens_per_second = tokensPerSecond,
            flops_per_token = flopsPerToken, mfu = Peak.Mfu(tokensPerSecond, flopsPerToken, fma), fma_gflop_per_s = Math.Round(fma, 1),
            load_average = Peak.LoadAverage(),
        });
        if (args.Contains("--no-torch")) return;

        var (lines, error) = TorchReference.RunScript("gpt2_train_bench.py", "--threads", $"{threads}", "--steps", $"{steps}");
        if (error is not null)
        {
            Measure.Emit(new { bench = "gpt2", implementation = "pytorch", skipped = error });
            return;
        }
        foreach (var line in lines) Console.WriteLine(line.GetRawText());
        if (lines.FirstOrDefault(l => l.TryGetProperty("tokens_per_second", out _)) is { ValueKind: JsonValueKind.Object } torch)
        {
            double theirs = torch.GetProperty("tokens_per_second").GetDouble();
            Measure.Emit(new
            {
                bench = "gpt2", comparison = "tokenspace/pytorch", threads, ratio = tokensPerSecond / theirs,
                pytorch_mfu = Peak.Mfu(theirs, flopsPerToken, fma),
            });
        }
    }
}
