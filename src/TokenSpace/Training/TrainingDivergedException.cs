namespace TokenSpace.Training;

/// <summary>
/// Training produced a NaN or infinite loss, gradient norm or weight. The run stops at <see cref="Step"/> before
/// the bad numbers reach the weights or a checkpoint, so the last checkpoint saved stays the last good one.
/// </summary>
public sealed class TrainingDivergedException(int step, string what)
    : InvalidOperationException($"step {step}: {what}; the run diverged and stopped there (try a lower TrainOptions.LearningRate, a " +
        "longer TrainOptions.WarmupSteps or TrainOptions.GradClip 1)")
{
    /// <summary>The 0-based step at which the non-finite value appeared.</summary>
    public int Step { get; } = step;
}
