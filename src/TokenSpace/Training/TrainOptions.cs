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

    /// <summary>Positions per training window when fewer than the model's block size (fine-tuning with a cropped context); 0: the block size.</summary>
    public int Context { get; init; }

    /// <summary>The step at which decay ends.</summary>
    public int DecayEnd => DecaySteps > 0 ? DecaySteps : Steps;

    /// <summary>Checks the options are usable.</summary>
    /// <exception cref="ArgumentException">A count is not positive or a rate is out of range.</exception>
    public void Validate()
    {
        if (Steps < 0) throw new ArgumentException($"--steps must not be negative, got {Steps}");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0)) throw new ArgumentException($"--lr must be positive, got {LearningRate}");
        if (!(MinLearningRate >= 0 && MinLearningRate <= LearningRate)) throw new ArgumentException($"--min-lr must lie in [0, lr], got {MinLearningRate}");
        if (WarmupSteps < 0) throw new ArgumentException($"--warmup must not be negative, got {WarmupSteps}");
        if (!(Beta1 >= 0 && Beta1 < 1 && Beta2 >= 0 && Beta2 < 1)) throw new ArgumentException($"betas must lie in [0, 1), got {Beta1}, {Beta2}");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"--weight-decay must not be negative, got {WeightDecay}");
        if (!(GradClip >= 0)) throw new ArgumentException($"--grad-clip must not be negative, got {GradClip}");
        if (Context < 0) throw new ArgumentException($"the context must not be negative, got {Context}");
        if (EvalEvery < 0 || SnapshotEvery < 0) throw new ArgumentException("--eval-every and --snapshot-every must not be negative");
    }
}
