using System.Diagnostics;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Bench;

/// <summary>
/// <c>train</c>: training tokens/s of the microgpt preset (one name per step) and of shakespeare-char-small,
/// beside the same models in PyTorch (tools/reference/train_bench.py) with the same threads. The two
/// implementations take turns for <c>--rounds</c> rounds and each reports its median, so a machine whose
/// speed drifts over minutes (shared hosts) does not favour whichever ran first; the rounds are printed too.
/// Also trains the microgpt preset (1000 steps) on ../shared/data/names.txt and reports the validation
/// loss; PyTorch trains the same model on the same documents in the same order and reports its own.
/// Options: <c>--steps N</c> (timed microgpt steps, default 1000), <c>--small-steps N</c> (timed
/// shakespeare-char-small steps, default 30), <c>--rounds N</c> (default 3), <c>--threads N</c>,
/// <c>--no-torch</c>, <c>--no-val</c>.
/// </summary>
static class TrainBench
{
    public static void Run(string[] args)
    {
        int threads = Threads.Count; // Program applies --threads before the bench runs
        int steps = Measure.Option(args, "--steps", 1000);
        int smallSteps = Measure.Option(args, "--small-steps", 30);
        int rounds = Measure.Option(args, "--rounds", 3);
        bool torch = !args.Contains("--no-torch");
        string root = Measure.RepoRoot();
        string names = Path.Combine(root, "src", "TokenSpace.Cli", "Data", "names.txt");
        string shakespeare = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", "tinyshakespeare.txt"));
        if (!File.Exists(shakespeare)) Console.Error.WriteLine($"skipping shakespeare-char-small: {shakespeare} is absent");

        double fma = Peak.Measured(threads);
        var flopsPerToken = new Dictionary<string, double>();
        var measured = new Dictionary<(string Config, string Implementation), List<double>>();
        void Add(string config, string implementation, double tokensPerSecond) =>
            (measured.TryGetValue((config, implementation), out var list) ? list : measured[(config, implementation)] = []).Add(tokensPerSecond);
        string[] torchArgs = ["--threads", $"{threads}", "--names", names, "--steps", $"{steps}", "--small-steps", $"{smallSteps}",
            .. File.Exists(shakespeare) ? new[] { "--shakespeare", shakespeare } : []];
        string? torchError = null;
        for (int round = 0; round < rounds; round++)
        {
            Add("microgpt", "tokenspace", TokensPerSecond(Presets.MicroGpt, names, steps, flopsPerToken));
            if (File.Exists(shakespeare))
                Add("shakespeare-char-small", "tokenspace", TokensPerSecond(Presets.ShakespeareCharSmall, shakespeare, smallSteps, flopsPerToken));
            if (!torch || torchError is not null) continue;
            var (lines, error) = TorchReference.RunScript("train_bench.py", torchArgs);
            torchError = error;
            foreach (var line in lines) Add(line.GetProperty("config").GetString()!, "pytorch", line.GetProperty("tokens_per_second").GetDouble());
        }
        // Measured again after the rounds, keeping the better figure, as the matmul bench does: the fraction errs low.
        fma = Math.Max(fma, Peak.Measured(threads));
        foreach (var ((config, implementation), values) in measured)
        {
            double median = Measure.Median(values);
            double? speedup = implementation == "tokenspace" && measured.TryGetValue((config, "pytorch"), out var reference)
                ? Math.Round(median / Measure.Median(reference), 2) : null;
            Measure.Emit(new
            {
                bench = "train", config, implementation, threads, tokens_per_second = Math.Round(median),
                rounds = values.Select(v => Math.Round(v)).ToArray(), speedup_vs_torch = speedup,
                flops_per_token = flopsPerToken[config], mfu = Peak.Mfu(median, flopsPerToken[config], fma), fma_gflop_per_s = Math.Round(fma, 1),
                load_average = Peak.LoadAverage(),
            });
        }
        if (torchError is not null) Measure.Emit(new { bench = "train", implementation = "pytorch", skipped = torchError });

        string sharedNames = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", "names.txt"));
        if (args.Contains("--no-val") || !File.Exists(sharedNames)) return;
        var (loss, trainDocs, valDocs) = ValidationLoss(sharedNames);
        Measure.Emit(new { bench = "train-val-loss", config = "microgpt", implementation = "tokenspace", threads, steps = 1000, seed = 42, val_loss = loss });
        if (!torch) return;
        string valDir = Path.Combine(Path.GetTempPath(), $"tokenspace-train-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(valDir);
        try
        {
            File.WriteAllLines(Path.Combine(valDir, "train.txt"), trainDocs);
            File.WriteAllLines(Path.Combine(valDir, "val.txt"), valDocs);
            var (lines, error) = TorchReference.RunScript("train_bench.py", "--threads", $"{threads}",
                "--val-train", Path.Combine(valDir, "train.txt"), "--val-data", Path.Combine(valDir, "val.txt"));
            if (error is not null) Measure.Emit(new { bench = "train-val-loss", implementation = "pytorch", skipped = error });
            foreach (var line in lines) Console.WriteLine(line.GetRawText());
        }
        finally
        {
            Directory.Delete(valDir, true);
        }
    }

    /// <summary>The microgpt preset's full validation loss after 1000 steps (seed 42), with the training documents in training order and the validation documents.</summary>
    static (double Loss, List<string> Train, List<string> Validation) ValidationLoss(string names)
    {
        var options = Presets.MicroGpt.Options with { EvalEvery = 0 };
        string text = File.ReadAllText(names);
        var tokenizer = CharTokenizer.Train(text);
        var (train, val) = TextData.FromText(text, tokenizer, DataMode.Lines, names).Split(options.Seed);
        var trainer = Trainer.Create(new Gpt(Presets.MicroGpt.Model(tokenizer.VocabSize)), tokenizer, options, train, val);
        while (trainer.Step < options.Steps) trainer.TrainStep();
        string Decode(int[] doc) => tokenizer.Decode(doc);
        return (trainer.ValidationLoss(all: true), train.Documents.Select(Decode).ToList(), val.Documents.Select(Decode).ToList());
    }

    /// <summary>
    /// Trains <paramref name="steps"/> steps after a warmup of a tenth as many, and returns predicted tokens per second of the
    /// timed steps; records the model's FLOPs per token (at the block size, as nanoGPT counts) under the preset's name.
    /// </summary>
    static double TokensPerSecond(Preset preset, string data, int steps, Dictionary<string, double> flopsPerToken)
    {
        var options = preset.Options with { Steps = int.MaxValue, EvalEvery = 0 };
        string text = File.ReadAllText(data);
        var tokenizer = options.Mode == DataMode.Lines ? CharTokenizer.Train(text) : CharTokenizer.TrainStream(text);
        var (train, val) = TextData.FromText(text, tokenizer, options.Mode, data).Split(options.Seed);
        var gpt = new Gpt(preset.Model(tokenizer.VocabSize), options.BatchSize);
        flopsPerToken[preset.Name] = Peak.FlopsPerToken(gpt, gpt.Config.BlockSize);
        var trainer = Trainer.Create(gpt, tokenizer, options, train, val);
        for (int i = 0; i < Math.Max(2, steps / 10); i++) trainer.TrainStep();
        long tokens = 0;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++)
        {
            trainer.TrainStep();
            tokens += trainer.LastTokens;
        }
        return tokens / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
