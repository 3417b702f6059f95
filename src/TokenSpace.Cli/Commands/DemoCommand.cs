using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// <c>tokenspace demo</c>, the main job: trains microgpt on the names that ship with the tool, then shows
/// what the model learned: losses, invented names, and which letters ended up near each vowel in wte.
/// </summary>
static class DemoCommand
{
    static readonly Option<string?> Data = new("--data") { Description = "Names, one per line, or a data set name: names (default: the " +
        "built-in list)" };
    static readonly Option<string> Out = new("--out") { Description = "Where to write the checkpoint",
        DefaultValueFactory = _ => Path.Combine("out", "demo") };
    static readonly Option<int?> Steps = new("--steps") { Description = "Training steps (microgpt: 1000)" };
    static readonly Option<ulong> Seed = new("--seed") { Description = "Seed for weights, data order and sampling",
        DefaultValueFactory = _ => 42 };

    public static Command Create()
    {
        var command = new Command("demo",
            "The main job: train microgpt on names, sample new names, show the letters' learned neighbours") { Data, Out, Steps, Seed };
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            long start = Stopwatch.GetTimestamp();
            string data = parse.GetValue(Data) is { } given ? DataCache.ResolveFile(given)
                : Path.Combine(AppContext.BaseDirectory, "Data", "names.txt");
            string outDir = parse.GetValue(Out)!;
            bool json = parse.GetValue(CliOptions.Json);
            var preset = Presets.MicroGpt;
            var options = preset.Options with { Seed = parse.GetValue(Seed) };
            if (parse.GetValue(Steps) is { } steps) options = options with { Steps = steps };
            options = options with { SnapshotEvery = DemoMaps.SnapshotEvery };
            ClaimOutput(outDir);
            Snapshots.Clear(outDir); // the page shows this run only
            if (!json) Console.WriteLine($"TokenSpace demo: training microgpt on {data}");
            // The demo claimed --out above; its progress lines are the evaluations.
            var run = TrainCommand.Run(data, null, preset.Model, options, outDir,
                new TrainCommand.RunSettings { Quiet = json, Overwrite = true, LogEvery = options.EvalEvery });
            if (run.Interrupted) return 130;
            var trainer = run.Trainer;
            var tokenizer = trainer.Tokenizer;

            // microgpt samples at temperature 0.5 from BOS until BOS.
            var (sampler, _) = Checkpoint.Load(outDir);
            var rng = new Rng(options.Seed);
            var names = Enumerable.Range(0, 10).Select(_ =>
                tokenizer.Decode(Sampler.Generate(sampler, [tokenizer.DocumentSeparator], sampler.Config.BlockSize, 0.5f, 0, rng,
                    tokenizer.DocumentSeparator))).ToList();

            // The checkpoint's wte as vectors keyed by token text: the same queries `neighbors --vectors` answers.
            using var wte = VectorsFile.Load(outDir);
            var neighbours = new List<(string Token, List<(string Token, float Cosine)> Nearest)>();
            foreach (string vowel in "aeiou".Select(c => c.ToString()).Where(v => tokenizer.CanEncode(v)))
            {
                neighbours.Add((vowel, wte.MostSimilar(vowel, 5).Select(n => (n.Key, n.Similarity)).ToList()));
            }
            var maps = DemoMaps.Write(outDir);
            var (formation, tokens) = EvaluateFormationCommand.Measure(outDir, "letters", null);

            if (json)
            {
                CliOptions.WriteJson(new
                {
                    run.Summary.Step,
                    run.Summary.TrainLoss,
                    run.Summary.ValLoss,
                    run.Summary.TokensPerSecond,
                    run.Summary.Seconds,
                    losses = run.Log.Select(l => new { step = l.Step, train_loss = double.IsNaN(l.Train) ? (double?)null : l.Train,
                        val_loss = l.Val }),
                    samples = names,
                    neighbors = neighbours.ToDictionary(n => n.Token,
                        n => n.Nearest.Select(x => new { token = x.Token, cosine = x.Cosine })),
                    formation = EvaluateFormationCommand.Json(formation, tokens),
                    checkpoint = Path.GetFullPath(outDir),
                    maps = new { embeddings_map = Path.GetFullPath(maps.EmbeddingsMap), positions = Path.GetFullPath(maps.Positions),
                        training = Path.GetFullPath(maps.Training) },
                });
                return 0;
            }
            var losses = new Table().AddColumns("step", "train loss", "val loss");
            foreach (var (step, train, val) in run.Log) losses.AddRow($"{step}", double.IsNaN(train) ? "" : $"{train:F4}", $"{val:F4}");
            AnsiConsole.Write(losses);
            // microgpt's steps are one name each: the whole run takes tens of milliseconds, so say it in ms.
            double seconds = run.Summary.Seconds;
            AnsiConsole.MarkupLine($"[grey]{run.Summary.TokensPerSecond:N0} tokens/s, " +
                $"{(seconds < 10 ? $"{seconds * 1000:N0} ms" : $"{seconds:F1} s")} in training steps[/]");
            AnsiConsole.WriteLine();
            AnsiConsole.MarkupLine("[bold]10 new names[/] (temperature 0.5):");
            foreach (string name in names) AnsiConsole.WriteLine("  " + name);
            AnsiConsole.WriteLine();
            var near = new Table().AddColumns("vowel", "nearest tokens in wte (cosine)");
            foreach (var (token, nearest) in neighbours)
                near.AddRow(Markup.Escape(KeyText.Visible(token)),
                    Markup.Escape(string.Join("  ", nearest.Select(n => $"{KeyText.Visible(n.Token)} {n.Cosine:F2}"))));
            AnsiConsole.Write(near);
            foreach (string line in EvaluateFormationCommand.Summary(formation, tokens)) Console.WriteLine(line);
            AnsiConsole.MarkupLine($"checkpoint: [blue]{Markup.Escape(Path.GetFullPath(outDir))}[/]");
            foreach (var (what, path) in new[] { ("letter map", maps.EmbeddingsMap), ("positions", maps.Positions),
                ("training", maps.Training) })
                AnsiConsole.MarkupLine($"{what}: [blue]{Markup.Escape(Path.GetFullPath(path))}[/]");
            AnsiConsole.MarkupLine($"[grey]the whole demo: {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s[/]");
            return 0;
        }));
        return command;
    }

    /// <summary>The file that marks a directory as the demo's own, so a later demo may replace what is in it.</summary>
    const string Marker = ".tokenspace-demo";

    /// <summary>
    /// Makes <paramref name="outDir"/> the demo's: a missing or empty directory, or one an earlier demo wrote
    /// (it holds <see cref="Marker"/>), is fine; anything else (say, the checkpoint of a real training run)
    /// is refused before a byte is written, since the demo replaces the checkpoint and clears snapshots/.
    /// </summary>
    /// <exception cref="IOException">The directory holds files the demo did not write.</exception>
    static void ClaimOutput(string outDir)
    {
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !File.Exists(Path.Combine(outDir, Marker)))
            throw new IOException($"{outDir} already holds files that `demo` did not write; the demo replaces the checkpoint there, so " +
                "give another --out or empty it first");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, Marker), "written by `tokenspace demo`, which may replace everything in this directory\n");
    }
}
