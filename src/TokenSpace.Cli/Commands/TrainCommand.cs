using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TokenSpace.Formats;
using TokenSpace.Model;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace train</c>: trains a GPT from scratch on a text file and writes a checkpoint directory.</summary>
static class TrainCommand
{
    static readonly Option<string> Data = new("--data") { Description = "Training text (UTF-8): one document per line, or running text with --mode text", Required = true };
    static readonly Option<string?> ValData = new("--val-data") { Description = "Validation text (default: a seeded 10 % of the documents, or the last 10 % of the text)" };
    static readonly Option<string> Tokenizer = new("--tokenizer")
    {
        Description = "Tokenizer: char (the corpus's characters), gpt2 (GPT-2's BPE from the data cache; text mode unless --mode lines), or a checkpoint directory's",
        DefaultValueFactory = _ => "char",
    };
    static readonly Option<string?> InitFrom = new("--init-from") { Description = "Fine-tune: start from this checkpoint or Hugging Face GPT-2 directory (its architecture and tokenizer; --block-size may crop the context)" };
    static readonly Option<string> PresetName = new("--preset") { Description = $"Model and recipe: {string.Join(", ", Presets.All.Keys)}", DefaultValueFactory = _ => "microgpt" };
    static readonly Option<string> Out = new("--out") { Description = "Checkpoint directory", DefaultValueFactory = _ => Path.Combine("out", "train") };
    static readonly Option<bool> Resume = new("--resume") { Description = "Continue the run saved in --out, bit for bit" };
    static readonly Option<string?> Mode = new("--mode") { Description = "lines (each line a document) or text (random windows)" };
    static readonly Option<int?> Steps = new("--steps") { Description = "Optimizer steps" };
    static readonly Option<int?> BatchSize = new("--batch-size") { Description = "Sequences per step" };
    static readonly Option<int?> BlockSize = new("--block-size") { Description = "Context length (n_positions); with --init-from, the context trained on (at most the model's)" };
    static readonly Option<int?> Layers = new("--n-layer") { Description = "Transformer blocks" };
    static readonly Option<int?> Heads = new("--n-head") { Description = "Attention heads" };
    static readonly Option<int?> Channels = new("--n-embd") { Description = "Embedding width" };
    static readonly Option<float?> Dropout = new("--dropout") { Description = "Dropout probability (training only)" };
    static readonly Option<float?> Lr = new("--lr") { Description = "Peak learning rate" };
    static readonly Option<float?> MinLr = new("--min-lr") { Description = "Learning rate at the end of the decay" };
    static readonly Option<int?> Warmup = new("--warmup") { Description = "Linear warmup steps" };
    static readonly Option<string?> Schedule = new("--schedule") { Description = "cosine, linear or constant" };
    static readonly Option<float?> WeightDecay = new("--weight-decay") { Description = "AdamW decay on Linear weights" };
    static readonly Option<float?> Beta1 = new("--beta1") { Description = "Adam β1" };
    static readonly Option<float?> Beta2 = new("--beta2") { Description = "Adam β2" };
    static readonly Option<float?> GradClip = new("--grad-clip") { Description = "Clip the gradient norm to this (0: off)" };
    static readonly Option<int?> EvalEvery = new("--eval-every") { Description = "Validation loss (and checkpoint) every N steps" };
    static readonly Option<int?> SnapshotEvery = new("--snapshot-every") { Description = "Save wte/wpe to OUT/snapshots every N steps" };
    static readonly Option<ulong?> Seed = new("--seed") { Description = "Seed for weights, data order and batches" };

    public static Command Create()
    {
        var command = new Command("train", "Train a GPT from scratch; its wte is the learned token embedding")
        {
            Data, ValData, Tokenizer, InitFrom, PresetName, Out, Resume, Mode, Steps, BatchSize, BlockSize, Layers, Heads, Channels, Dropout,
            Lr, MinLr, Warmup, Schedule, WeightDecay, Beta1, Beta2, GradClip, EvalEvery, SnapshotEvery, Seed,
        };
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string? initFrom = parse.GetValue(InitFrom);
            string tokenizerSpec = initFrom ?? parse.GetValue(Tokenizer)!;
            if (initFrom is not null && ((parse.GetValue(Layers) ?? parse.GetValue(Heads) ?? parse.GetValue(Channels)) is not null || parse.GetValue(Dropout) is not null))
                throw new ArgumentException("--init-from takes the architecture and dropout from its directory's config.json; drop --n-layer, --n-head, --n-embd and --dropout");
            if (parse.GetValue(Resume))
            {
                Option[] fixedByRun = [Tokenizer, InitFrom, PresetName, Mode, BatchSize, BlockSize, Layers, Heads, Channels, Dropout,
                    Lr, MinLr, Warmup, Schedule, WeightDecay, Beta1, Beta2, GradClip, EvalEvery, SnapshotEvery, Seed];
                var given = fixedByRun.Where(option => parse.GetResult(option) is { Implicit: false }).Select(option => option.Name).ToList();
                if (given.Count > 0)
                    throw new ArgumentException($"--resume continues the saved run with its own settings; drop {string.Join(", ", given)} (only --steps, --data and --val-data may be given)");
            }
            var preset = Presets.Get(parse.GetValue(PresetName)!);
            var o = preset.Options;
            if (parse.GetValue(Mode) is { } mode) o = o with { Mode = ParseMode(mode) };
            else if (initFrom is not null) o = o with { Mode = Checkpoint.ReadTrainOptions(initFrom)?.Mode ?? DataMode.Text }; // as it was trained; GPT-2 reads running text
            else if (tokenizerSpec != "char") o = o with { Mode = DataMode.Text }; // BPE reads running text, as nanoGPT
            if (parse.GetValue(Steps) is { } steps) o = o with { Steps = steps };
            if (parse.GetValue(BatchSize) is { } batch) o = o with { BatchSize = batch };
            if (parse.GetValue(Lr) is { } lr) o = o with { LearningRate = lr };
            if (parse.GetValue(MinLr) is { } minLr) o = o with { MinLearningRate = minLr };
            if (parse.GetValue(Warmup) is { } warmup) o = o with { WarmupSteps = warmup };
            if (parse.GetValue(Schedule) is { } schedule) o = o with { Schedule = ParseSchedule(schedule) };
            if (parse.GetValue(WeightDecay) is { } wd) o = o with { WeightDecay = wd };
            if (parse.GetValue(Beta1) is { } b1) o = o with { Beta1 = b1 };
            if (parse.GetValue(Beta2) is { } b2) o = o with { Beta2 = b2 };
            if (parse.GetValue(GradClip) is { } clip) o = o with { GradClip = clip };
            if (parse.GetValue(EvalEvery) is { } every) o = o with { EvalEvery = every };
            if (parse.GetValue(SnapshotEvery) is { } snap) o = o with { SnapshotEvery = snap };
            if (parse.GetValue(Seed) is { } seed) o = o with { Seed = seed };
            GptConfig Model(int vocab)
            {
                var c = preset.Model(vocab);
                if (parse.GetValue(BlockSize) is { } block) c = c with { BlockSize = block };
                if (parse.GetValue(Layers) is { } layers) c = c with { Layers = layers };
                if (parse.GetValue(Heads) is { } heads) c = c with { Heads = heads };
                if (parse.GetValue(Channels) is { } channels) c = c with { Channels = channels };
                if (parse.GetValue(Dropout) is { } dropout) c = c with { Dropout = dropout };
                return c;
            }
            bool json = parse.GetValue(CliOptions.Json);
            if (initFrom is not null && parse.GetValue(BlockSize) is { } context) o = o with { Context = context };
            var source = new ModelSource(tokenizerSpec, initFrom, Model);
            var run = Run(parse.GetValue(Data)!, parse.GetValue(ValData), source, o, parse.GetValue(Out)!, parse.GetValue(Resume),
                parse.GetValue(Steps), quiet: json);
            if (json) CliOptions.WriteJson(run.Summary);
            return 0;
        }));
        return command;
    }

    /// <summary>The <c>--json</c> summary of a run.</summary>
    /// <param name="Seconds">Time spent in training steps.</param>
    /// <param name="SnapshotSeconds">Time spent saving snapshots and measuring their formation metrics.</param>
    internal sealed record Summary(int Step, double TrainLoss, double ValLoss, double TokensPerSecond, double Seconds, double SnapshotSeconds);

    internal sealed record Result(Summary Summary, Trainer Trainer, List<(int Step, double Train, double Val)> Log);

    /// <summary>
    /// Trains (or resumes) and saves to <paramref name="outDir"/> at every evaluation and at the end. Logs
    /// evaluation lines unless <paramref name="quiet"/>; shows a progress bar on stderr when it is a terminal.
    /// </summary>
    internal static Result Run(string dataPath, string? valPath, Func<int, GptConfig> modelFor, TrainOptions options,
        string outDir, bool resume, int? stepsOverride, bool quiet) =>
        Run(dataPath, valPath, new ModelSource("char", null, modelFor), options, outDir, resume, stepsOverride, quiet);

    /// <summary>Where a run's tokenizer and model come from.</summary>
    /// <param name="Tokenizer">char, gpt2 or a directory (see <see cref="TokenizerOption.Resolve"/>).</param>
    /// <param name="InitFrom">A checkpoint or Hugging Face directory to fine-tune, or null to train from scratch.</param>
    /// <param name="ModelFor">From scratch: the architecture for a vocabulary size.</param>
    internal sealed record ModelSource(string Tokenizer, string? InitFrom, Func<int, GptConfig> ModelFor);

    internal static Result Run(string dataPath, string? valPath, ModelSource source, TrainOptions options,
        string outDir, bool resume, int? stepsOverride, bool quiet)
    {
        var trainer = resume ? ResumeTrainer(dataPath, valPath, outDir, stepsOverride) : CreateTrainer(dataPath, valPath, source, options);
        var o = trainer.Options;
        var log = new List<(int, double, double)>();
        var recent = new Queue<float>();
        double recentSum = 0;
        long tokens = 0;
        var clock = new Stopwatch();
        double valLoss = double.NaN;
        bool progress = !quiet && !Console.IsErrorRedirected;
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var formation = o.SnapshotEvery > 0 ? new FormationLog(outDir, trainer) : null;

        void Line(string text)
        {
            if (quiet) return;
            if (progress) err.WriteLine(text);
            else Console.WriteLine(text);
        }

        double TrainLoss() => recent.Count == 0 ? double.NaN : recentSum / recent.Count;

        void Loop(Action<double> report)
        {
            if (!quiet) Line($"training {trainer.Model.Parameters.Length:N0} parameters for {o.Steps} steps from step {trainer.Step} ({trainer.Train.PredictedTokens:N0} training tokens)");
            if (trainer.Step == 0 && o.EvalEvery > 0)
            {
                // The untrained model's loss (≈ ln V) is the baseline the later numbers are read against.
                valLoss = trainer.ValidationLoss();
                log.Add((0, double.NaN, valLoss));
                Line($"step {0,6}/{o.Steps} | val loss {valLoss:F4}");
            }
            while (trainer.Step < o.Steps)
            {
                if (o.SnapshotEvery > 0 && trainer.Step % o.SnapshotEvery == 0) formation!.Snapshot();
                clock.Start();
                var (loss, _) = trainer.TrainStep();
                clock.Stop();
                tokens += trainer.LastTokens;
                recent.Enqueue(loss);
                recentSum += loss;
                if (recent.Count > 100) recentSum -= recent.Dequeue();
                bool last = trainer.Step == o.Steps;
                if (last || (o.EvalEvery > 0 && trainer.Step % o.EvalEvery == 0))
                {
                    valLoss = trainer.ValidationLoss(all: last);
                    log.Add((trainer.Step, TrainLoss(), valLoss));
                    Line($"step {trainer.Step,6}/{o.Steps} | train loss {TrainLoss():F4} | val loss {valLoss:F4} | lr {trainer.LastLearningRate:G3} | {tokens / clock.Elapsed.TotalSeconds:N0} tok/s");
                    trainer.Save(outDir);
                }
                report(tokens / Math.Max(1e-9, clock.Elapsed.TotalSeconds));
            }
            // The trained embeddings are always the last frame, also when the run does not end on a multiple of N.
            if (formation is not null && !formation.Has(trainer.Step)) formation.Snapshot();
            if (log.Count == 0 || log[^1].Item1 != trainer.Step)
            {
                // Nothing left to train (a resume at the end): still report the validation loss.
                valLoss = trainer.ValidationLoss(all: true);
                log.Add((trainer.Step, TrainLoss(), valLoss));
                trainer.Save(outDir);
            }
        }

        if (progress)
        {
            err.Progress().AutoClear(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("training", maxValue: Math.Max(1, o.Steps));
                    task.Value = trainer.Step;
                    Loop(tps =>
                    {
                        task.Value = trainer.Step;
                        task.Description = $"step {trainer.Step} | loss {TrainLoss():F4} | {tps:N0} tok/s";
                    });
                });
        }
        else
        {
            Loop(_ => { });
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var summary = new Summary(trainer.Step, TrainLoss(), valLoss, seconds > 0 ? tokens / seconds : 0, seconds, formation?.Seconds ?? 0);
        return new Result(summary, trainer, log);
    }

    static Trainer CreateTrainer(string dataPath, string? valPath, ModelSource source, TrainOptions options)
    {
        options.Validate();
        if (source.Tokenizer != "char" || source.InitFrom is not null)
        {
            var (loaded, tok) = source.InitFrom is { } dir
                ? Checkpoint.Load(dir, options.BatchSize, options.Context, forTraining: true)
                : (null, TokenizerOption.Resolve(source.Tokenizer));
            var data = LoadData(dataPath, tok, options.Mode);
            var (trainPart, valPart) = valPath is null ? data.Split(options.Seed) : (data.Shuffle(options.Seed), LoadData(valPath, tok, options.Mode));
            var start = loaded ?? new Gpt(source.ModelFor(tok.VocabSize), options.BatchSize);
            return Trainer.Create(start, tok, options, trainPart, valPart, initialize: source.InitFrom is null);
        }
        string text = File.ReadAllText(dataPath);
        string? valText = valPath is null ? null : File.ReadAllText(valPath);
        if (string.IsNullOrWhiteSpace(text)) throw new FileFormatException(dataPath, "the corpus is empty; nothing to train on");
        if (valText is not null && string.IsNullOrWhiteSpace(valText)) throw new FileFormatException(valPath!, "the validation corpus is empty");
        string vocabText = text + (valText ?? "");
        var tokenizer = options.Mode == DataMode.Lines ? CharTokenizer.Train(vocabText) : CharTokenizer.TrainStream(vocabText);
        var all = TextData.FromText(text, tokenizer, options.Mode, dataPath);
        var (train, val) = valPath is null ? all.Split(options.Seed) : (all.Shuffle(options.Seed), TextData.FromText(valText!, tokenizer, options.Mode, valPath));
        var model = new Gpt(source.ModelFor(tokenizer.VocabSize), options.BatchSize);
        return Trainer.Create(model, tokenizer, options, train, val);
    }

    static Trainer ResumeTrainer(string dataPath, string? valPath, string outDir, int? steps)
    {
        var saved = Checkpoint.ReadTrainOptions(outDir)
            ?? throw new FileNotFoundException($"{Path.Combine(outDir, Checkpoint.StateFile)} does not exist; --resume needs a checkpoint saved by `train` in --out", outDir);
        var (model, tokenizer) = Checkpoint.Load(outDir, saved.BatchSize, saved.Context, forTraining: true);
        var state = Checkpoint.LoadState(outDir, model);
        var all = LoadData(dataPath, tokenizer, saved.Mode);
        var (train, val) = valPath is null ? all.Split(saved.Seed) : (all.Shuffle(saved.Seed), LoadData(valPath, tokenizer, saved.Mode));
        return Trainer.Resume(model, tokenizer, state, train, val, steps);
    }

    /// <summary>GPT-2's BPE on running text goes through the token cache (tokenised once); the rest is tokenised here.</summary>
    static TextData LoadData(string path, ITokenizer tokenizer, DataMode mode) =>
        tokenizer is Gpt2BpeTokenizer bpe && mode == DataMode.Text ? TextData.LoadCached(path, bpe) : TextData.Load(path, tokenizer, mode);

    internal static DataMode ParseMode(string mode) => mode switch
    {
        "lines" => DataMode.Lines,
        "text" => DataMode.Text,
        _ => throw new ArgumentException($"--mode must be lines or text, got '{mode}'"),
    };

    static LrSchedule ParseSchedule(string schedule) => schedule switch
    {
        "cosine" => LrSchedule.Cosine,
        "linear" => LrSchedule.Linear,
        "constant" => LrSchedule.Constant,
        _ => throw new ArgumentException($"--schedule must be cosine, linear or constant, got '{schedule}'"),
    };
}
