using System.Numerics.Tensors;

namespace TokenSpace.Tensors;

// Legend: N rows (B·T flattened), V vocabulary size.

/// <summary>
/// Softmax followed by the negative log-likelihood of the target, fused: the loss is computed as
/// <c>logsumexp(logits) − logits[target]</c>, which stays finite however confident the model is.
/// A target of <see cref="Ignore"/> marks a position (padding) that takes no part in the loss.
/// </summary>
public static class CrossEntropy
{
    /// <summary>The target value of a position that is not predicted (PyTorch's <c>ignore_index</c> is −100; any negative works
    /// here).</summary>
    public const int Ignore = -1;

    const int RowsPerUnit = 16;

    /// <summary>Writes the softmax of every row and the per-row loss (0 for ignored rows); returns the mean loss over the rows with a
    /// target and how many there were.</summary>
    /// <param name="probs">(N, V), overwritten.</param>
    /// <param name="losses">(N), overwritten.</param>
    /// <param name="logits">(N, V).</param>
    /// <param name="targets">(N), each in [0, V) or negative to ignore; empty to compute only probabilities.</param>
    public static unsafe (float Mean, int Count) Forward(Span<float> probs, Span<float> losses, ReadOnlySpan<float> logits,
        ReadOnlySpan<int> targets, int N, int V)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Loss);
        fixed (float* pProbs = probs, pLosses = losses, pLogits = logits)
        fixed (int* pTargets = targets)
        {
            nint p = (nint)pProbs, l = (nint)pLosses, z = (nint)pLogits, y = (nint)pTargets;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, 4L * N * V, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    var zr = new ReadOnlySpan<float>((float*)z + (long)n * V, V);
                    var pr = new Span<float>((float*)p + (long)n * V, V);
                    float max = TensorPrimitives.Max(zr);
                    // e^(z − max): z·1 − max in one rounding, as the subtraction alone.
                    float sum = Exponential.ExpSum(zr, 1f, -max, pr);
                    TensorPrimitives.Multiply(pr, 1f / sum, pr);
                    if (y == 0) continue;
                    int target = ((int*)y)[n];
                    ((float*)l)[n] = target < 0 ? 0f : max + MathF.Log(sum) - zr[target];
                }
            });
        }
        if (targets.IsEmpty) return (float.NaN, 0);
        // The mean is summed in order, in double, so it is the same for any thread count.
        double total = 0;
        int count = 0;
        for (int n = 0; n < N; n++)
        {
            if (targets[n] < 0) continue;
            total += losses[n];
            count++;
        }
        return (count == 0 ? float.NaN : (float)(total / count), count);
    }

    /// <summary>
    /// Writes the gradient of <c>scale · Σ loss</c> with respect to the logits:
    /// <c>dLogits = scale · (probs − onehot(target))</c>, and zero on ignored rows. Overwrites (does not accumulate).
    /// </summary>
    /// <param name="dLogits">(N, V), overwritten.</param>
    /// <param name="probs">(N, V) from <see cref="Forward"/>.</param>
    /// <param name="targets">(N).</param>
    public static unsafe void Backward(Span<float> dLogits, ReadOnlySpan<float> probs, ReadOnlySpan<int> targets, float scale, int N, int V)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Loss);
        fixed (float* pD = dLogits, pProbs = probs)
        fixed (int* pTargets = targets)
        {
            nint d = (nint)pD, p = (nint)pProbs, y = (nint)pTargets;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, 4L * N * V, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    var dr = new Span<float>((float*)d + (long)n * V, V);
                    int target = ((int*)y)[n];
                    if (target < 0)
                    {
                        dr.Clear();
                        continue;
                    }
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>((float*)p + (long)n * V, V), scale, dr);
                    dr[target] -= scale;
                }
            });
        }
    }
}
