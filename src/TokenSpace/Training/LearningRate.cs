namespace TokenSpace.Training;

/// <summary>How the learning rate falls after warmup.</summary>
public enum LrSchedule
{
    /// <summary>Half a cosine from the peak down to the minimum (nanoGPT).</summary>
    Cosine,

    /// <summary>A straight line from the peak down to the minimum (microgpt, with minimum 0).</summary>
    Linear,

    /// <summary>The peak throughout (after warmup).</summary>
    Constant,
}

/// <summary>The learning rate at each step: linear warmup, then the decay schedule, then the minimum.</summary>
public static class LearningRate
{
    /// <summary>
    /// The rate for 0-based <paramref name="step"/>: <c>peak·(step+1)/(warmup+1)</c> during warmup (nanoGPT),
    /// then from <paramref name="peak"/> to <paramref name="min"/> over steps warmup…<paramref name="decaySteps"/>,
    /// then <paramref name="min"/>. Linear with warmup 0 and min 0 is microgpt's <c>lr·(1 − step/steps)</c>.
    /// </summary>
    public static float At(int step, LrSchedule schedule, float peak, float min, int warmup, int decaySteps)
    {
        if (step < warmup) return peak * (step + 1) / (warmup + 1);
        if (schedule == LrSchedule.Constant) return peak;
        if (step >= decaySteps) return min;
        double ratio = (double)(step - warmup) / (decaySteps - warmup);
        double coeff = schedule == LrSchedule.Cosine ? 0.5 * (1 + Math.Cos(Math.PI * ratio)) : 1 - ratio;
        return (float)(min + coeff * (peak - min));
    }
}
