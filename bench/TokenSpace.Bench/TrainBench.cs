using System.Diagnostics;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Bench;

/// <summary>
/// <c>train</c>: training tokens/s of the microgpt preset (one name per step) and of shakespeare-char-small,
/// then the same models in PyTorch (tools/reference/train_bench.py) with the same threads, in the same run.
/// Options: <c>--steps N</c> (timed steps per config), <c>--threads N</c>, <c>--no-torch</c>.
/// </summary>
static class TrainBench
{
    public static void Run(string[] args)
    {
        int threads = Option(args, "--threads", Environment.ProcessorCount);
        int steps = Option(args, "--steps", 0);
        Threads.Count = threads;
        string root = RepoRoot();
        string names = Path.Combine(root, "src", "TokenSpace.Cli", "Data", "names.txt");
        string shakespeare = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", "tinyshakespeare.txt"));

        Measure.Emit(new { bench = "train", config = "microgpt", implementation = "tokenspace", threads, tokens_per_second = TokensPerSecond(Presets.MicroGpt, names, steps > 0 ? steps : 1000) });
        if (File.Exists(shakespeare))
            Measure.Emit(new { bench = "train", config = "shakespeare-char-small", implementation = "tokenspace", threads, tokens_per_second = TokensPerSecond(Presets.ShakespeareCharSmall, shakespeare, steps > 0 ? steps : 10) });
        else
            Console.Error.WriteLine($"skipping shakespeare-char-small: {shakespeare} is absent");

        if (args.Contains("--no-torch")) return;
        var psi = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(root, "tools", "reference", "train_bench.py"), "--threads", $"{threads}", "--names", names, "--shakespeare", shakespeare])
        {
            RedirectStandardOutput = true,
        };
        if (steps > 0) { psi.ArgumentList.Add("--steps"); psi.ArgumentList.Add($"{steps}"); }
        using var python = Process.Start(psi) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        while (python.StandardOutput.ReadLine() is { } line) Console.WriteLine(line);
        python.WaitForExit();
        if (python.ExitCode != 0) Console.Error.WriteLine($"train_bench.py exited with {python.ExitCode}");
    }

    /// <summary>Trains <paramref name="steps"/> steps after a warmup of a tenth as many, and returns predicted tokens per second of the timed steps.</summary>
    static double TokensPerSecond(Preset preset, string data, int steps)
    {
        var options = preset.Options with { Steps = int.MaxValue, EvalEvery = 0 };
        string text = File.ReadAllText(data);
        var tokenizer = options.Mode == DataMode.Lines ? CharTokenizer.Train(text) : CharTokenizer.TrainStream(text);
        var (train, val) = TextData.FromText(text, tokenizer, options.Mode, data).Split(options.Seed);
        var trainer = Trainer.Create(new Gpt(preset.Model(tokenizer.VocabSize), options.BatchSize), tokenizer, options, train, val);
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

    static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TokenSpace.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("TokenSpace.sln not found above " + AppContext.BaseDirectory);
    }
}
