using TokenSpace.IO;

namespace TokenSpace.Training;

/// <summary>
/// Everything about a training run except the model's shape. Defaults are microgpt's (the demo's);
/// presets and CLI options override them.
/// </summary>
public sealed record TrainOptions
{
    /// <summary>Optimizer steps (microgpt: 1000).</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Sequences per step (microgpt: one document).</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Peak learning rate (microgpt: 0.01).</summary>
    public float LearningRate { get; init; } = 0.01f;

    /// <summary>Where the decay ends (microgpt: 0).</summary>
    public float MinLearningRate { get; init; }

    /// <summary>Linear warmup steps (microgpt: none).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Decay shape after warmup (microgpt: linear to the minimum).</summary>
    public LrSchedule Schedule { get; init; } = LrSchedule.Linear;

    /// <summary>Step at which the decay reaches the minimum; 0 means <see cref="Steps"/>.</summary>
    public int DecaySteps { get; init; }

    /// <summary>microgpt's β1 0.85 (nanoGPT: 0.9).</summary>
    public float Beta1 { get; init; } = 0.85f;

    /// <summary>0.99 in both microgpt and nanoGPT's shakespeare-char (the model sees few tokens per step).</summary>
    public float Beta2 { get; init; } = 0.99f;

    /// <summary>Adam's eps (1e-8 as PyTorch).</summary>
    public float Eps { get; init; } = 1e-8f;

    /// <summary>Decoupled weight decay on Linear weights (microgpt: none; nanoGPT: 0.1).</summary>
    public float WeightDecay { get; init; }

    /// <summary>Clip the global gradient norm to this (0: never; nanoGPT: 1.0).</summary>
    public float GradClip { get; init; }

    /// <summary>How corpus lines become examples.</summary>
    public DataMode Mode { get; init; } = DataMode.Lines;

    /// <summary>Validation loss every this many steps (0: only at the end).</summary>
    public int EvalEvery { get; init; }

    /// <summary>Cap on tokens per periodic evaluation (0: the whole validation set).</summary>
    public long EvalTokens { get; init; } = 65536;

    /// <summary>Seeds the initial weights, the data order and the batches.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Save wte/wpe snapshots every this many steps (0: never).</summary>
    public int SnapshotEvery { get; init; }

    /// <summary>Positions per training window when fewer than the model's block size (fine-tuning with a cropped context); 0: the block
    /// size.</summary>
    public int Context { get; init; }

    /// <summary>The step at which decay ends.</summary>
    public int DecayEnd => DecaySteps > 0 ? DecaySteps : Steps;

    /// <summary>
    /// These options for a resumed run extended to <paramref name="steps"/>. The decay keeps its horizon, as nanoGPT's
    /// <c>lr_decay_iters</c> does when <c>max_iters</c> grows: a 2000-step run resumed to 3000 reaches the minimum at step
    /// 2000 and stays there. <paramref name="decaySteps"/> moves the horizon; the rate then follows the new curve from
    /// the current step on (it may rise again). A run stopped early and resumed to its planned end is the straight run.
    /// </summary>
    public TrainOptions Continued(int? steps, int? decaySteps) => this with { Steps = steps ?? Steps, DecaySteps = decaySteps ?? DecayEnd };

    /// <summary>
    /// Checks the options are usable. Errors name the options as this type does (<c>TrainOptions.Steps</c>), or, for
    /// options read back from a saved run's <paramref name="file"/> (<c>trainer.json</c>), that file and its keys.
    /// </summary>
    /// <exception cref="ArgumentException">A count is negative or a rate out of range (a <see cref="FileFormatException"/> for a
    /// file).</exception>
    public void Validate(string? file = null)
    {
        void Check(bool ok, string option, string key, string rule, object value)
        {
            if (ok) return;
            if (file is null) throw new ArgumentException($"TrainOptions.{option} {rule}, got {value}");
            throw new FileFormatException(file, $"\"options\": \"{key}\" {rule}, got {value}; was the file edited?");
        }
        Check(Steps >= 0, nameof(Steps), "steps", "must not be negative", Steps);
        Check(BatchSize >= 1, nameof(BatchSize), "batch_size", "must be at least 1", BatchSize);
        Check(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), "learning_rate", "must be positive and finite",
            LearningRate);
        Check(MinLearningRate >= 0 && MinLearningRate <= LearningRate, nameof(MinLearningRate), "min_learning_rate",
            "must lie in [0, the learning rate]", MinLearningRate);
        Check(WarmupSteps >= 0, nameof(WarmupSteps), "warmup_steps", "must not be negative", WarmupSteps);
        Check(DecaySteps >= 0, nameof(DecaySteps), "decay_steps", "must not be negative", DecaySteps);
        Check(Beta1 >= 0 && Beta1 < 1, nameof(Beta1), "beta1", "must lie in [0, 1)", Beta1);
        Check(Beta2 >= 0 && Beta2 < 1, nameof(Beta2), "beta2", "must lie in [0, 1)", Beta2);
        Check(Eps > 0 && float.IsFinite(Eps), nameof(Eps), "eps", "must be positive and finite", Eps);
        Check(WeightDecay >= 0 && float.IsFinite(WeightDecay), nameof(WeightDecay), "weight_decay", "must not be negative", WeightDecay);
        Check(GradClip >= 0 && float.IsFinite(GradClip), nameof(GradClip), "grad_clip", "must not be negative", GradClip);
        Check(Enum.IsDefined(Mode), nameof(Mode), "mode", "must be lines or text", Mode);
        Check(Enum.IsDefined(Schedule), nameof(Schedule), "schedule", "must be cosine, linear or constant", Schedule);
        Check(EvalEvery >= 0, nameof(EvalEvery), "eval_every", "must not be negative", EvalEvery);
        Check(EvalTokens >= 0, nameof(EvalTokens), "eval_tokens", "must not be negative", EvalTokens);
        Check(SnapshotEvery >= 0, nameof(SnapshotEvery), "snapshot_every", "must not be negative", SnapshotEvery);
        Check(Context >= 0, nameof(Context), "context", "must not be negative", Context);
    }
}
