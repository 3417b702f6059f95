using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Spectre.Console;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace train</c>: trains a GPT from scratch on a text file and writes a checkpoint directory.</summary>
static class TrainCommand
{
    static readonly Option<string> Data = new("--data") { Description = "Training text (UTF-8): one document per line, or running text " +
        "with --mode text; or a data set name (names, tinyshakespeare)", Required = true };
    static readonly Option<string?> ValData = new("--val-data") { Description = "Validation text or data set name (default: a seeded 10 " +
        "% " +
        "of the documents, or the last 10 % of the text)" };
    static readonly Option<string> Tokenizer = new("--tokenizer")
    {
        Description = "Tokenizer: char (the corpus's characters), gpt2 (GPT-2's BPE from the data cache; text mode unless --mode lines), " +
            "or a checkpoint directory's",
        DefaultValueFactory = _ => "char",
    };
    static readonly Option<string?> InitFrom = new("--init-from") { Description = "Fine-tune: start from this checkpoint or Hugging Face " +
        "GPT-2 directory (its architecture and tokenizer; --block-size may crop the context)" };
    static readonly Option<string> PresetName = new("--preset") { Description = $"Model and recipe: {string.Join(", ", Presets.All.Keys)}",
        DefaultValueFactory = _ => "microgpt" };
    static readonly Option<string> Out = new("--out") { Description = "Checkpoint directory",
        DefaultValueFactory = _ => Path.Combine("out", "train") };
    static readonly Option<bool> Resume = new("--resume") { Description = "Continue the run saved in --out, bit for bit" };
    static readonly Option<string?> Mode = new("--mode") { Description = "lines (each line a document) or text (random windows)" };
    static readonly Option<int?> Steps = new("--steps") { Description = "Optimizer steps" };
    static readonly Option<int?> BatchSize = new("--batch-size") { Description = "Sequences per step" };
    static readonly Option<int?> BlockSize = new("--block-size") { Description = "Context length (n_positions); with --init-from, the " +
        "context trained on (at most the model's)" };
    static readonly Option<int?> Layers = new("--n-layer") { Description = "Transformer blocks" };
    static readonly Option<int?> Heads = new("--n-head") { Description = "Attention heads" };
    static readonly Option<int?> Channels = new("--n-embd") { Description = "Embedding width" };
    static readonly Option<string?> Positions = new("--positions")
    {
        Description = "Position encoding: learned (GPT-2's wpe, the default), sinusoidal (fixed, added to wte), rope (rotary q, k), none",
    };
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
    static readonly Option<long?> EvalTokens = new("--eval-tokens")
    {
        Description = "Validation tokens each evaluation reads (0: all; default 65,536); the last evaluation reads all",
    };
    static readonly Option<int?> SnapshotEvery = new("--snapshot-every") { Description = "Save wte/wpe to OUT/snapshots every N steps" };
    static readonly Option<ulong?> Seed = new("--seed") { Description = "Seed for weights, data order and batches" };
    static readonly Option<int?> LrDecaySteps = new("--lr-decay-steps")
    {
        Description = "Step at which the decay reaches --min-lr (nanoGPT's lr_decay_iters; default: --steps, and on --resume the run's " +
            "own)",
    };
    static readonly Option<int?> LogEvery = new("--log-every") { Description = "A progress line every N steps (default: about every 2 s)" };
    static readonly Option<bool> ProfileSteps = new("--profile")
    {
        Description = "At the end, print where a training step's time went (matmuls, attention, norms, optimizer, data, …)",
    };
    static readonly Option<bool> Overwrite = new("--overwrite") { Description = "Let a new run replace another run's checkpoint in --out" };
    static readonly Option<bool> ReplaceInvalidUtf8 = new("--replace-invalid-utf8") { Description = "Read invalid UTF-8 in the text as " +
        "U+FFFD instead of stopping" };

    public static Command Create()
    {
        var command = new Command("train", "Train a GPT from scratch; its wte is the learned token embedding")
        {
            Data, ValData, Tokenizer, InitFrom, PresetName, Out, Resume, Mode, Steps, BatchSize, BlockSize, Layers, Heads, Channels,
            Positions, Dropout, Lr, MinLr, Warmup, Schedule, WeightDecay, Beta1, Beta2, GradClip, EvalEvery, EvalTokens, SnapshotEvery,
            Seed, LrDecaySteps, LogEvery, ProfileSteps, Overwrite, ReplaceInvalidUtf8,
        };
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string? initFrom = parse.GetValue(InitFrom);
            string tokenizerSpec = initFrom ?? parse.GetValue(Tokenizer)!;
            if (initFrom is not null && ((parse.GetValue(Layers) ?? parse.GetValue(Heads) ?? parse.GetValue(Channels)) is not null
                || parse.GetValue(Dropout) is not null || parse.GetValue(Positions) is not null))
            {
                throw new ArgumentException("--init-from takes the architecture and dropout from its directory's config.json; "
                    + "drop --n-layer, --n-head, --n-embd, --positions and --dropout");
            }
            var preset = Presets.Get(parse.GetValue(PresetName)!);
            var o = preset.Options;
            if (parse.GetValue(Mode) is { } mode) o = o with { Mode = ParseMode(mode) };
            else if (initFrom is not null) o = o with { Mode = TrainingState.ReadOptions(initFrom)?.Mode
                ?? DataMode.Text }; // as it was trained; GPT-2 reads running text
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
            if (parse.GetValue(EvalTokens) is { } evalTokens) o = o with { EvalTokens = evalTokens };
            if (parse.GetValue(SnapshotEvery) is { } snap) o = o with { SnapshotEvery = snap };
            if (parse.GetValue(Seed) is { } seed) o = o with { Seed = seed };
            if (parse.GetValue(LrDecaySteps) is { } decay) o = o with { DecaySteps = decay };
            GptConfig Model(int vocab)
            {
                var c = preset.Model(vocab);
                if (parse.GetValue(BlockSize) is { } block) c = c with { BlockSize = block };
                if (parse.GetValue(Layers) is { } layers) c = c with { Layers = layers };
                if (parse.GetValue(Heads) is { } heads) c = c with { Heads = heads };
                if (parse.GetValue(Channels) is { } channels) c = c with { Channels = channels };
                if (parse.GetValue(Positions) is { } positions) c = c with { Positions = ParsePositions(positions) };
                if (parse.GetValue(Dropout) is { } dropout) c = c with { Dropout = dropout };
                return c;
            }
            bool json = parse.GetValue(CliOptions.Json);
            if (initFrom is not null && parse.GetValue(BlockSize) is { } context) o = o with { Context = context };
            var source = new ModelSource(tokenizerSpec, initFrom, Model);
            var settings = new RunSettings
            {
                Quiet = json,
                Overwrite = parse.GetValue(Overwrite),
                LogEvery = parse.GetValue(LogEvery),
                Profile = parse.GetValue(ProfileSteps),
                ReplaceInvalidUtf8 = parse.GetValue(ReplaceInvalidUtf8),
                Resume = parse.GetValue(Resume) ? (saved, config, tokenizer) =>
                    ResumeOptions(parse, saved, config, tokenizer, o, Model) : null,
            };
            var run = Run(DataCache.ResolveFile(parse.GetValue(Data)!), parse.GetValue(ValData) is { } val ? DataCache.ResolveFile(val)
                : null, source, o, parse.GetValue(Out)!, settings);
            if (json) CliOptions.WriteJson(run.Summary);
            return run.Interrupted ? 130 : 0;
        }));
        return command;
    }

    /// <summary>
    /// <c>--resume</c> continues the saved run with its own settings; an option given anyway must agree with them (so
    /// the command that started a run, with <c>--resume</c> added, continues it), <c>--preset</c> must describe the
    /// saved architecture, and only <c>--steps</c>, <c>--lr-decay-steps</c>, <c>--eval-every</c>, <c>--eval-tokens</c>,
    /// <c>--snapshot-every</c> and <c>--log-every</c> may change (see <see cref="TrainOptions.Continued"/>).
    /// </summary>
    /// <param name="given">The options as a fresh run would take them from the preset and the command line.</param>
    static TrainOptions ResumeOptions(ParseResult parse, TrainOptions saved, GptConfig config, ITokenizer tokenizer, TrainOptions given,
        Func<int, GptConfig> model)
    {
        bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
        if (Given(InitFrom)) throw new ArgumentException("--init-from starts a new run; --resume continues the one saved in --out, so " +
            "drop --init-from");
        var fromCli = model(config.VocabSize);
        var savedTokenizer = tokenizer.Kind;
        (Option Option, object Given, object Saved)[] fixedByRun =
        [
            (Tokenizer, parse.GetValue(Tokenizer)!, savedTokenizer), (Mode, given.Mode, saved.Mode),
                (BatchSize, given.BatchSize, saved.BatchSize),
            (Lr, given.LearningRate, saved.LearningRate), (MinLr, given.MinLearningRate, saved.MinLearningRate),
            (Warmup, given.WarmupSteps, saved.WarmupSteps), (Schedule, given.Schedule, saved.Schedule),
                (WeightDecay, given.WeightDecay, saved.WeightDecay),
            (Beta1, given.Beta1, saved.Beta1), (Beta2, given.Beta2, saved.Beta2), (GradClip, given.GradClip, saved.GradClip),
                (Seed, given.Seed, saved.Seed),
            (BlockSize, fromCli.BlockSize, config.BlockSize), (Layers, fromCli.Layers, config.Layers), (Heads, fromCli.Heads, config.Heads),
            (Channels, fromCli.Channels, config.Channels), (Positions, fromCli.Positions, config.Positions),
            (Dropout, fromCli.Dropout, config.Dropout),
        ];
        var differ = fixedByRun.Where(f => Given(f.Option) && !f.Given.Equals(f.Saved)).ToList();
        var differing = differ.Select(f => $"{f.Option.Name} {Show(f.Given)} (the run's: {Show(f.Saved)})").ToList();
        // The preset is the architecture: it agrees when, with the architecture options given, it is the run's.
        if (Given(PresetName) && fromCli != config && !differ.Intersect(fixedByRun[^6..]).Any())
            differing.Add($"--preset {parse.GetValue(PresetName)} (another architecture than the run's)");
        if (differing.Count > 0)
        {
            throw new ArgumentException($"--resume continues the saved run with its own settings, and these differ: " +
                $"{string.Join(", ", differing)}; "
                + "drop them (only --steps, --lr-decay-steps, --eval-every, --eval-tokens, --snapshot-every and --log-every may change)");
        }
        var continued = saved.Continued(parse.GetValue(Steps), parse.GetValue(LrDecaySteps));
        if (parse.GetValue(EvalEvery) is { } every) continued = continued with { EvalEvery = every };
        if (parse.GetValue(EvalTokens) is { } evalTokens) continued = continued with { EvalTokens = evalTokens };
        if (parse.GetValue(SnapshotEvery) is { } snap) continued = continued with { SnapshotEvery = snap };
        return continued;
    }

    static string Show(object value) => value switch
    {
        float f => f.ToString("G", CultureInfo.InvariantCulture),
        Enum e => e.ToString().ToLowerInvariant(),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    /// <summary>The <c>--json</c> summary of a run.</summary>
    /// <param name="Seconds">Time spent in training steps.</param>
    /// <param name="SnapshotSeconds">Time spent saving snapshots and measuring their formation metrics.</param>
    /// <param name="Profile">With <c>--profile</c>: where a step's time went.</param>
    internal sealed record Summary(int Step, double TrainLoss, double ValLoss, double TokensPerSecond, double Seconds,
        double SnapshotSeconds,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        IReadOnlyList<StepShare>? Profile = null);

    /// <summary>One part of a training step's time (<c>--profile</c>).</summary>
    /// <param name="Part">What the time went to (matmul forward, attention, …; "other": the step's time outside the timed kernels).</param>
    /// <param name="MsPerStep">Milliseconds per step, averaged over the run's steps.</param>
    /// <param name="Share">Its fraction of the step's time.</param>
    /// <param name="CallsPerStep">Kernel calls per step.</param>
    internal sealed record StepShare(string Part, double MsPerStep, double Share, double CallsPerStep);

    /// <param name="Interrupted">Ctrl-C stopped the run (after saving a checkpoint at <see cref="Summary.Step"/>).</param>
    internal sealed record Result(Summary Summary, Trainer Trainer, List<(int Step, double Train, double Val)> Log, bool Interrupted);

    /// <summary>How a run starts and what it shows.</summary>
    internal sealed record RunSettings
    {
        /// <summary>Print no lines and no bar (<c>--json</c>).</summary>
        public bool Quiet { get; init; }

        /// <summary>A fresh run may replace another run's checkpoint in the output directory.</summary>
        public bool Overwrite { get; init; }

        /// <summary>A progress line every this many steps; null: about every <see cref="LogInterval"/>.</summary>
        public int? LogEvery { get; init; }

        /// <summary>Time the kernels of each step and report the split (<c>--profile</c>).</summary>
        public bool Profile { get; init; }

        /// <summary>Read invalid UTF-8 in the text as U+FFFD instead of refusing it.</summary>
        public bool ReplaceInvalidUtf8 { get; init; }

        /// <summary>
        /// Resume the run saved in the output directory instead of starting one: given its saved options, architecture and
        /// tokenizer, returns the options to continue with (or throws when the command line disagrees with them).
        /// </summary>
        public Func<TrainOptions, GptConfig, ITokenizer, TrainOptions>? Resume { get; init; }
    }

    /// <summary>The default time between progress lines.</summary>
    static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(2);

    /// <summary>Where a run's tokenizer and model come from.</summary>
    /// <param name="Tokenizer">char, gpt2 or a directory (see <see cref="TokenizerOption.Resolve"/>).</param>
    /// <param name="InitFrom">A checkpoint or Hugging Face directory to fine-tune, or null to train from scratch.</param>
    /// <param name="ModelFor">From scratch: the architecture for a vocabulary size.</param>
    internal sealed record ModelSource(string Tokenizer, string? InitFrom, Func<int, GptConfig> ModelFor);

    /// <summary>Trains the character model <paramref name="modelFor"/> describes (the demo's and the tests' runs).</summary>
    internal static Result Run(string dataPath, string? valPath, Func<int, GptConfig> modelFor, TrainOptions options, string outDir,
        RunSettings settings) =>
        Run(dataPath, valPath, new ModelSource("char", null, modelFor), options, outDir, settings);

    /// <summary>
    /// Trains (or resumes) into <paramref name="outDir"/>: a checkpoint before the first step of a fresh run, at every
    /// evaluation, at the end, and when Ctrl-C stops the run (a second Ctrl-C aborts at once). Prints progress lines
    /// (loss, tokens/s over the last interval, an ETA smoothed over the intervals: <see cref="StepRate"/>)
    /// unless quiet, and a live bar on stderr when it is a terminal. A
    /// diverging run stops with an error before its bad numbers reach a checkpoint.
    /// </summary>
    internal static Result Run(string dataPath, string? valPath, ModelSource source, TrainOptions options, string outDir,
        RunSettings settings)
    {
        // One writer per directory, for the whole run; what an interrupted save left is finished or cleared first.
        bool existed = Directory.Exists(outDir);
        using var writer = CheckpointLock.Acquire(outDir);
        Checkpoint.Recover(outDir, writer);
        if (settings.Resume is null && !settings.Overwrite && Checkpoint.HoldsRun(outDir))
        {
            throw new IOException($"{outDir} holds another run (a checkpoint or snapshots/); --resume continues it, --overwrite replaces " +
                "it, "
                + "or choose another --out");
        }
        Trainer trainer;
        try
        {
            trainer = settings.Resume is { } resume
                ? ResumeTrainer(dataPath, valPath, outDir, resume, settings.ReplaceInvalidUtf8)
                : CreateTrainer(dataPath, valPath, source, options, settings.ReplaceInvalidUtf8);
        }
        catch when (!existed)
        {
            // A run that could not start leaves no directory behind.
            writer.Dispose();
            if (Directory.EnumerateFileSystemEntries(outDir).All(e => Path.GetFileName(e) == CheckpointLock.FileName))
                Directory.Delete(outDir, true);
            throw;
        }
        var o = trainer.Options;
        bool quiet = settings.Quiet;
        var log = new List<(int, double, double)>();
        var recent = new Queue<float>();
        double recentSum = 0;
        long tokens = 0;
        var clock = new Stopwatch(); // time spent in training steps
        // --profile's split: the steps after the run's first, which compiles the optimizer's and the step's own code.
        var profiled = new Stopwatch();
        int profiledSteps = 0;
        bool firstStepDone = false;
        KernelProfile.Reset();
        double valLoss = double.NaN;
        bool progress = !quiet && !Console.IsErrorRedirected;
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var formation = o.SnapshotEvery > 0 ? new FormationLog(outDir, trainer) : null;
        int savedStep = trainer.Step;

        using var interrupt = new CancellationTokenSource();
        int interrupts = 0;
        // The first Ctrl-C asks for a checkpoint at the current step; the second is left to the runtime, which ends the process.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            if (Interlocked.Increment(ref interrupts) > 1) return;
            context.Cancel = true;
            interrupt.Cancel();
        });

        void Line(string text)
        {
            if (quiet) return;
            if (progress) err.WriteLine(text);
            else Console.WriteLine(text);
        }

        double TrainLoss() => recent.Count == 0 ? double.NaN : recentSum / recent.Count;

        void Save()
        {
            trainer.Save(outDir);
            savedStep = trainer.Step;
        }

        // The last progress line: its time, step and training tokens/clock, for the rate now and the ETA (smoothed
        // over the intervals, wall time, so evaluations and saves count too).
        long lineTime = Stopwatch.GetTimestamp();
        int lineStep = trainer.Step;
        (long Tokens, TimeSpan Clock) lineWork = (0, TimeSpan.Zero);
        var stepRate = new StepRate();
        string rates = "";
        string Rates()
        {
            stepRate.Add(trainer.Step - lineStep, Stopwatch.GetElapsedTime(lineTime).TotalSeconds);
            double rate = (tokens - lineWork.Tokens) / Math.Max(1e-9, (clock.Elapsed - lineWork.Clock).TotalSeconds);
            double eta = stepRate.Remaining(o.Steps - trainer.Step);
            (lineTime, lineStep, lineWork) = (Stopwatch.GetTimestamp(), trainer.Step, (tokens, clock.Elapsed));
            return rates = $"{rate:N0} tok/s | ETA {Duration(eta)}";
        }
        bool LineDue() => settings.LogEvery is { } n ? n > 0 && trainer.Step % n == 0 : Stopwatch.GetElapsedTime(lineTime) >= LogInterval;

        bool Loop(Action report)
        {
            Line($"training {trainer.Model.Parameters.Length:N0} parameters for {o.Steps} steps from step {trainer.Step} " +
                $"({trainer.Train.PredictedTokens:N0} training tokens)");
            if (trainer.Step < o.Steps)
            {
                // Two timed passes (the first pays for JIT and cold caches); evaluations and saves come on top.
                var step = TimeSpan.FromTicks(Math.Min(trainer.TimeStep().Ticks, trainer.TimeStep().Ticks));
                double estimate = step.TotalSeconds * (o.Steps - trainer.Step);
                if (estimate > 60) Line($"estimated time: {Duration(estimate)} ({step.TotalMilliseconds:F0} ms per step, evaluations not " +
                    "included)");
            }
            if (trainer.Step == 0 && o.EvalEvery > 0)
            {
                // The untrained model's loss (≈ ln V) is the baseline the later numbers are read against.
                valLoss = trainer.ValidationLoss();
                log.Add((0, double.NaN, valLoss));
                Line($"step {0,6}/{o.Steps} | val loss {valLoss:F4}");
            }
            // A fresh run saves before its first step, so a run stopped in any way leaves a checkpoint to resume.
            if (settings.Resume is null) Save();
            lineTime = Stopwatch.GetTimestamp();
            while (trainer.Step < o.Steps)
            {
                if (interrupt.IsCancellationRequested)
                {
                    Line($"interrupted: saving a checkpoint at step {trainer.Step} (Ctrl-C again aborts without saving)");
                    Save();
                    return true;
                }
                if (o.SnapshotEvery > 0 && trainer.Step % o.SnapshotEvery == 0) formation!.Snapshot();
                clock.Start();
                profiled.Start();
                KernelProfile.Enabled = settings.Profile; // the steps only: evaluations and saves are not in the split
                var (loss, _) = trainer.TrainStep();
                KernelProfile.Enabled = false;
                profiled.Stop();
                clock.Stop();
                profiledSteps++;
                if (!firstStepDone && trainer.Step < o.Steps)
                {
                    KernelProfile.Reset();
                    profiled.Reset();
                    profiledSteps = 0;
                }
                firstStepDone = true;
                tokens += trainer.LastTokens;
                recent.Enqueue(loss);
                recentSum += loss;
                if (recent.Count > 100) recentSum -= recent.Dequeue();
                bool last = trainer.Step == o.Steps;
                if (last || (o.EvalEvery > 0 && trainer.Step % o.EvalEvery == 0))
                {
                    valLoss = trainer.ValidationLoss(all: last);
                    log.Add((trainer.Step, TrainLoss(), valLoss));
                    Line($"step {trainer.Step,6}/{o.Steps} | train loss {TrainLoss():F4} | val loss {valLoss:F4} | lr " +
                        $"{trainer.LastLearningRate:G3} | {Rates()}");
                    Save();
                }
                else if (LineDue())
                {
                    Line($"step {trainer.Step,6}/{o.Steps} | train loss {TrainLoss():F4} | lr {trainer.LastLearningRate:G3} | {Rates()}");
                }
                report();
            }
            // The trained embeddings are always the last frame, also when the run does not end on a multiple of N.
            if (formation is not null && !formation.Has(trainer.Step)) formation.Snapshot();
            if (log.Count == 0 || log[^1].Item1 != trainer.Step)
            {
                // Nothing left to train (a resume at the end): still report the validation loss.
                valLoss = trainer.ValidationLoss(all: true);
                log.Add((trainer.Step, TrainLoss(), valLoss));
                Save();
            }
            return false;
        }

        bool interrupted;
        try
        {
            if (progress)
            {
                interrupted = err.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                        new SpinnerColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("training", maxValue: Math.Max(1, o.Steps));
                        task.Value = trainer.Step;
                        return Loop(() =>
                        {
                            task.Value = trainer.Step;
                            // The rate and ETA of the last progress line: the bar shows one ETA, the same as the lines.
                            task.Description = $"step {trainer.Step}/{o.Steps} | loss " +
                                $"{TrainLoss():F4}{(rates.Length > 0 ? " | " : "")}{rates}";
                        });
                    });
            }
            else
            {
                interrupted = Loop(() => { });
            }
        }
        catch (TrainingDivergedException e)
        {
            throw new InvalidOperationException($"{e.Message}; the last good checkpoint (step {savedStep}) is untouched in {outDir}", e);
        }
        if (interrupted)
        {
            Console.Error.WriteLine($"stopped at step {trainer.Step} of {o.Steps}; checkpoint saved in {outDir}; "
                + $"continue with `tokenspace train --data {dataPath} --out {outDir} --resume`");
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var split = settings.Profile ? StepSplit(profiled.Elapsed, profiledSteps) : null;
        if (split is not null && !settings.Quiet) PrintSplit(split, profiledSteps);
        var summary = new Summary(trainer.Step, TrainLoss(), valLoss, seconds > 0 ? tokens / seconds : 0, seconds, formation?.Seconds ?? 0,
            split);
        return new Result(summary, trainer, log, interrupted);
    }

    /// <summary>
    /// The kernels' timers (<see cref="KernelProfile"/>) over <paramref name="steps"/> steps that took <paramref name="total"/>,
    /// largest first, with "other" the rest of the steps' time (residual adds, buffer clears inside the passes, bookkeeping).
    /// </summary>
    static List<StepShare> StepSplit(TimeSpan total, int steps)
    {
        int n = Math.Max(1, steps);
        double all = Math.Max(1e-9, total.TotalMilliseconds);
        var parts = KernelProfile.Totals().Where(p => p.Calls > 0).Select(p => new StepShare(PartName(p.Part), p.Time.TotalMilliseconds / n,
            p.Time.TotalMilliseconds / all, (double)p.Calls / n)).OrderByDescending(p => p.MsPerStep).ToList();
        double other = all - parts.Sum(p => p.MsPerStep * n);
        parts.Add(new StepShare("other", other / n, other / all, 0));
        return parts;
    }

    static string PartName(KernelProfile.Part part) => part switch
    {
        KernelProfile.Part.MatMulForward => "matmul forward",
        KernelProfile.Part.MatMulBackward => "matmul backward",
        _ => part.ToString().ToLowerInvariant(),
    };

    static void PrintSplit(List<StepShare> split, int steps)
    {
        var table = new Table().AddColumns("part", "ms / step", "share", "calls / step");
        foreach (var p in split)
            table.AddRow(p.Part, $"{p.MsPerStep:F3}", $"{p.Share:P1}", p.Part == "other" ? "" : $"{p.CallsPerStep:N0}");
        AnsiConsole.MarkupLine($"where a step's time went ({steps:N0} steps, {split.Sum(p => p.MsPerStep):F1} ms each):");
        AnsiConsole.Write(table);
    }

    /// <summary>A duration as a person reads it: 42s, 3m05s, 1h12m.</summary>
    static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2)));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s"
            : $"{t.Seconds}s";
    }

    static Trainer CreateTrainer(string dataPath, string? valPath, ModelSource source, TrainOptions options, bool replaceInvalidUtf8)
    {
        options.Validate();
        if (source.Tokenizer != "char" || source.InitFrom is not null)
        {
            var (loaded, tok) = source.InitFrom is { } dir
                ? Checkpoint.Load(dir, options.BatchSize, options.Context, forTraining: true)
                : (null, TokenizerOption.Resolve(source.Tokenizer));
            var data = LoadData(dataPath, tok, options.Mode, replaceInvalidUtf8);
            var (trainPart, valPart) = valPath is null
                ? data.Split(options.Seed)
                : (data.Shuffle(options.Seed), LoadData(valPath, tok, options.Mode, replaceInvalidUtf8));
            var start = loaded ?? new Gpt(source.ModelFor(tok.VocabSize), options.BatchSize);
            return Trainer.Create(start, tok, options, trainPart, valPart, initialize: source.InitFrom is null);
        }
        // The vocabulary comes from reading the files piece by piece, and running text is encoded the same way: a corpus is never
        // held whole beside its ids.
        var chars = CharTokenizer.CharactersOf(dataPath, replaceInvalidUtf8);
        if (chars.All(char.IsWhiteSpace)) throw new FileFormatException(dataPath, "the corpus is empty; nothing to train on");
        char[] valChars = valPath is null ? [] : CharTokenizer.CharactersOf(valPath, replaceInvalidUtf8);
        if (valPath is not null && valChars.All(char.IsWhiteSpace)) throw new FileFormatException(valPath,
            "the validation corpus is empty");
        // Lines mode leaves out line breaks: they separate documents.
        var tokenizer = CharTokenizer.FromVocab(chars.Union(valChars).Where(c => options.Mode == DataMode.Text || c is not ('\n' or '\r'))
            .Order());
        var all = TextData.Load(dataPath, tokenizer, options.Mode, replaceInvalidUtf8);
        var (train, val) = valPath is null ? all.Split(options.Seed)
            : (all.Shuffle(options.Seed), TextData.Load(valPath, tokenizer, options.Mode, replaceInvalidUtf8));
        var model = new Gpt(source.ModelFor(tokenizer.VocabSize), options.BatchSize);
        return Trainer.Create(model, tokenizer, options, train, val);
    }

    static Trainer ResumeTrainer(string dataPath, string? valPath, string outDir, Func<TrainOptions, GptConfig, ITokenizer,
        TrainOptions> continueWith,
        bool replaceInvalidUtf8)
    {
        var saved = TrainingState.ReadOptions(outDir)
            ?? throw new FileNotFoundException($"{Path.Combine(outDir, Checkpoint.StateFile)} does not exist; --resume needs a " +
                "checkpoint " +
                "saved by `train` in --out", outDir);
        saved.Validate(Path.Combine(outDir, Checkpoint.StateFile));
        var (model, tokenizer) = Checkpoint.Load(outDir, saved.BatchSize, saved.Context, forTraining: true);
        var state = TrainingState.Load(outDir, model);
        var options = continueWith(state.Options, model.Config, tokenizer);
        var all = LoadData(dataPath, tokenizer, saved.Mode, replaceInvalidUtf8);
        var (train, val) = valPath is null ? all.Split(saved.Seed)
            : (all.Shuffle(saved.Seed), LoadData(valPath, tokenizer, saved.Mode, replaceInvalidUtf8));
        return Trainer.Resume(model, tokenizer, state, train, val, options);
    }

    /// <summary>Running text goes through the token cache (tokenised once) when the tokenizer has a cache key (GPT-2's BPE).</summary>
    static TextData LoadData(string path, ITokenizer tokenizer, DataMode mode, bool replaceInvalidUtf8) =>
        tokenizer.CacheKey is not null && mode == DataMode.Text
            ? TextData.LoadCached(path, tokenizer, replaceInvalidUtf8: replaceInvalidUtf8)
            : TextData.Load(path, tokenizer, mode, replaceInvalidUtf8);

    internal static DataMode ParseMode(string mode) => mode switch
    {
        "lines" => DataMode.Lines,
        "text" => DataMode.Text,
        _ => throw new ArgumentException($"--mode must be lines or text, got '{mode}'"),
    };

    static PositionKind ParsePositions(string positions) => Checkpoint.ParsePositions(positions)
        ?? throw new ArgumentException($"--positions must be {string.Join(", ", Checkpoint.PositionNames.Values)}, got '{positions}'");

    static LrSchedule ParseSchedule(string schedule) => schedule switch
    {
        "cosine" => LrSchedule.Cosine,
        "linear" => LrSchedule.Linear,
        "constant" => LrSchedule.Constant,
        _ => throw new ArgumentException($"--schedule must be cosine, linear or constant, got '{schedule}'"),
    };
}
