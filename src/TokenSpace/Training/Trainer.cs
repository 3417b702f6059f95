using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;

namespace TokenSpace.Training;

/// <summary>
/// The training loop's state and one step of it: batch, forward, backward, clip, learning rate, AdamW.
/// One Rng, seeded by <see cref="TrainOptions.Seed"/>, draws the initial weights and then every random
/// window; with the same seed and data two runs are identical bit for bit, and a run resumed from a
/// checkpoint continues exactly as if it had never stopped.
/// </summary>
public sealed class Trainer
{
    readonly Batcher batcher;
    readonly int[] inputs, targets;

    Trainer(Gpt model, ITokenizer tokenizer, TrainOptions options, TextData train, TextData validation, Rng rng, AdamW optimizer, int step)
    {
        Model = model;
        Tokenizer = tokenizer;
        Options = options;
        Train = train;
        Validation = validation;
        Rng = rng;
        Optimizer = optimizer;
        Step = step;
        DataHash = Hash(train);
        batcher = new Batcher(train, options.BatchSize, model.MaxT, train.Mode == DataMode.Lines ? tokenizer.DocumentSeparator : 0);
        inputs = new int[options.BatchSize * model.MaxT];
        targets = new int[options.BatchSize * model.MaxT];
    }

    public Gpt Model { get; }
    public ITokenizer Tokenizer { get; }
    public TrainOptions Options { get; }
    public TextData Train { get; }
    public TextData Validation { get; }
    public Rng Rng { get; }
    public AdamW Optimizer { get; }

    // Set for a fresh run until its first snapshot: frames of an earlier run in the same directory must go.
    bool clearOldSnapshots;

    // Training losses since the last snapshot, whose mean the next snapshot records.
    double lossSinceSnapshot;
    int stepsSinceSnapshot;

    /// <summary>Steps taken (the next step's 0-based index).</summary>
    public int Step { get; private set; }

    /// <summary>The learning rate the last step used.</summary>
    public float LastLearningRate { get; private set; }

    /// <summary>Tokens predicted in the last step (padding excluded).</summary>
    public int LastTokens { get; private set; }

    /// <summary>A hash of the training tokens, kept in the checkpoint so a resume on other data is refused.</summary>
    public string DataHash { get; }

    /// <summary>
    /// A fresh run: the model's weights are drawn from <c>Rng(options.Seed)</c>, or, when not
    /// <paramref name="initialize"/>, kept as loaded (fine-tuning, as nanoGPT's <c>init_from</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options, or the model's buffers are smaller than the batch.</exception>
    public static Trainer Create(Gpt model, ITokenizer tokenizer, TrainOptions options, TextData train, TextData validation,
        bool initialize = true)
    {
        options.Validate();
        if (model.MaxBatch < options.BatchSize)
            throw new ArgumentException($"the model's buffers hold {model.MaxBatch} rows, the batch needs {options.BatchSize}");
        var rng = new Rng(options.Seed);
        if (initialize) model.Initialize(rng);
        return new Trainer(model, tokenizer, options, train, validation, rng,
            new AdamW(model.Slices, options.Beta1, options.Beta2, options.Eps, options.WeightDecay), 0) { clearOldSnapshots = true };
    }

    /// <summary>
    /// Continues a run from <paramref name="state"/> with its saved options, or with <paramref name="options"/>: the saved
    /// ones changed only where the numbers stay those of the saved run (see <see cref="TrainOptions.Continued"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The training data differ from the saved run's, or <paramref name="options"/> change
    /// more.</exception>
    public static Trainer Resume(Gpt model, ITokenizer tokenizer, TrainingState state, TextData train, TextData validation,
        TrainOptions? options = null)
    {
        options ??= state.Options;
        options.Validate();
        if (options with { Steps = state.Options.Steps, DecaySteps = state.Options.DecaySteps, EvalEvery = state.Options.EvalEvery,
            EvalTokens = state.Options.EvalTokens, SnapshotEvery = state.Options.SnapshotEvery }
            != state.Options)
            throw new ArgumentException("a resumed run keeps its settings; only the steps, the decay horizon, the eval interval and size " +
                "and the snapshot interval may change");
        if (options.Steps < state.Step)
            throw new ArgumentException($"the run is at step {state.Step}; TrainOptions.Steps {options.Steps} would not extend it");
        if (Hash(train) != state.DataHash)
            throw new ArgumentException("the training data differ from those of the run being resumed; resume it on the same training " +
                "data (and validation data)");
        var rng = new Rng(options.Seed) { State = state.RngState };
        var optimizer = new AdamW(model.Slices, options.Beta1, options.Beta2, options.Eps, options.WeightDecay) { Steps = state.Step };
        state.M.CopyTo(optimizer.M, 0);
        state.V.CopyTo(optimizer.V, 0);
        return new Trainer(model, tokenizer, options, train, validation, rng, optimizer, state.Step);
    }

    /// <summary>The learning rate of the next step.</summary>
    public float LearningRateNow =>
        LearningRate.At(Step, Options.Schedule, Options.LearningRate, Options.MinLearningRate, Options.WarmupSteps, Options.DecayEnd);

    /// <summary>
    /// Takes one optimizer step and returns its training loss and the gradient norm before clipping. A loss or
    /// norm that is not finite stops the run before the weights change: the step is not taken.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss or the gradient norm is NaN or infinite.</exception>
    public (float Loss, float GradNorm) TrainStep()
    {
        int B, T;
        using (KernelProfile.Time(KernelProfile.Part.Data)) (B, T) = batcher.Next(Step, Rng, inputs, targets);
        Model.ZeroGrad();
        float loss = Model.Forward(inputs.AsSpan(0, B * T), targets.AsSpan(0, B * T), B, T, Rng);
        LastTokens = Model.TargetCount;
        Model.Backward();
        float norm = AdamW.ClipGradNorm(Model.Gradients, Options.GradClip);
        if (!float.IsFinite(loss) || !float.IsFinite(norm))
            throw new TrainingDivergedException(Step, $"the training loss is {loss} and the gradient norm {norm}");
        LastLearningRate = LearningRateNow;
        Optimizer.Update(Model.Parameters, Model.Gradients, LastLearningRate);
        Step++;
        lossSinceSnapshot += loss;
        stepsSinceSnapshot++;
        return (loss, norm);
    }

    /// <summary>
    /// Times one forward and backward pass on the batch the next step will draw, without changing the run: the
    /// weights, optimizer, Rng and step stay as they are (the gradients are recomputed by the next step anyway).
    /// </summary>
    public TimeSpan TimeStep()
    {
        var rng = new Rng(Options.Seed) { State = Rng.State };
        long start = Stopwatch.GetTimestamp();
        var (B, T) = batcher.Next(Step, rng, inputs, targets);
        Model.ZeroGrad();
        Model.Forward(inputs.AsSpan(0, B * T), targets.AsSpan(0, B * T), B, T, rng);
        Model.Backward();
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>The validation loss (at most <see cref="TrainOptions.EvalTokens"/> tokens unless <paramref name="all"/>).</summary>
    /// <exception cref="TrainingDivergedException">The loss is NaN or infinite: the weights are no longer usable.</exception>
    public double ValidationLoss(bool all = false)
    {
        double loss = Evaluator.Loss(Model, Validation, all ? 0 : Options.EvalTokens).Loss;
        return double.IsFinite(loss) ? loss : throw new TrainingDivergedException(Step, $"the validation loss is {loss}");
    }

    /// <summary>Saves model, tokenizer and training state to <paramref name="dir"/> (atomically).</summary>
    /// <exception cref="TrainingDivergedException">A weight or optimizer moment is NaN or infinite; nothing is written.</exception>
    public void Save(string dir)
    {
        foreach (var (what, values) in new[] { ("a weight", Model.Parameters), ("an optimizer moment", Optimizer.M),
            ("an optimizer moment", Optimizer.V) })
        {
            if (NonFinite.IndexOf(values) is var i and >= 0) throw new TrainingDivergedException(Step, $"{what} is {values[i]}");
        }
        Checkpoint.Save(dir, Model, Tokenizer, new TrainingState(Step, Rng.State, Options, Optimizer.M, Optimizer.V, DataHash).WriteInto);
    }

    /// <summary>
    /// Writes <c>DIR/snapshots/step-NNNNNN.safetensors</c> holding <c>wte.weight</c> (V, C) and (learned positions only) <c>wpe.weight</c>
    /// (block_size, C) as they are before step <see cref="Step"/>, with metadata <c>step</c> and <c>train_loss</c> (the mean
    /// training loss of the steps since the previous snapshot, absent before the first step); and
    /// <c>DIR/snapshots/tokenizer.json</c> (+ GPT-2's vocabulary files), whose ids index wte's rows. The first
    /// snapshot of a fresh (not resumed) run first deletes the frames, tokenizer and formation log an earlier run left there.
    /// </summary>
    /// <returns>The <c>train_loss</c> it recorded, or null.</returns>
    public double? SaveSnapshot(string dir)
    {
        if (clearOldSnapshots) Snapshots.Clear(dir);
        clearOldSnapshots = false;
        double? loss = stepsSinceSnapshot > 0 ? lossSinceSnapshot / stepsSinceSnapshot : null;
        (lossSinceSnapshot, stepsSinceSnapshot) = (0, 0);
        Snapshots.Save(dir, Step, Model, Tokenizer, loss);
        return loss;
    }

    static string Hash(TextData data)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([(byte)data.Mode]);
        foreach (var doc in data.Documents) sha.AppendData(MemoryMarshal.AsBytes(doc.AsSpan()));
        sha.AppendData(MemoryMarshal.AsBytes(data.Stream.Span));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
