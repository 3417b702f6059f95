namespace TokenSpace.Cli.Commands;

/// <summary>
/// The time per step behind a training ETA: an exponential moving average of each progress interval's seconds
/// per step (weight <see cref="Smoothing"/> for the newest, tqdm's default), bias-corrected as tqdm does so the
/// first intervals are not pulled towards zero. A single slow interval (an evaluation, a save) moves it about
/// 30 % of the way to its own rate, where the last interval alone would swing the ETA by its whole ratio.
/// </summary>
sealed class StepRate
{
    /// <summary>Weight of the newest interval.</summary>
    public const double Smoothing = 0.3;

    double average;
    double weight; // sum of the weights given so far: 1 - (1 - Smoothing)^intervals

    /// <summary>Seconds per step so far; NaN before the first interval.</summary>
    public double SecondsPerStep => weight > 0 ? average / weight : double.NaN;

    /// <summary>Adds an interval of <paramref name="steps"/> steps that took <paramref name="seconds"/> (no steps: ignored).</summary>
    public void Add(int steps, double seconds)
    {
        if (steps <= 0) return;
        average = Smoothing * (seconds / steps) + (1 - Smoothing) * average;
        weight = Smoothing + (1 - Smoothing) * weight;
    }

    /// <summary>Seconds left for <paramref name="steps"/> more steps at the smoothed rate (0 before the first interval).</summary>
    public double Remaining(int steps) => weight > 0 ? SecondsPerStep * Math.Max(0, steps) : 0;
}
