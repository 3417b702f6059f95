namespace TokenSpace.Tensors;

// Legend: N elements.

/// <summary>
/// Inverted dropout: each element is zeroed with probability p and the survivors are scaled by 1/(1 − p),
/// so the expected activation is unchanged and evaluation needs no rescaling. The keep/drop decision for
/// element i is a hash of (<c>seed</c>, i), so the mask does not depend on the thread count, and one
/// 64-bit seed per call (drawn from the training Rng) makes runs and resumes reproducible.
/// </summary>
public static class Dropout
{
    const int ElementsPerUnit = 16384;

    /// <summary>Writes the mask (0 or 1/(1 − p)) and <c>output = input · mask</c>. Output may be the input.</summary>
    /// <param name="output">(N), overwritten.</param>
    /// <param name="mask">(N), overwritten.</param>
    /// <param name="input">(N).</param>
    public static void Forward(Span<float> output, Span<float> mask, ReadOnlySpan<float> input, float p, ulong seed)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Dropout);
        FillMask(mask, p, seed);
        System.Numerics.Tensors.TensorPrimitives.Multiply(input, mask, output);
    }

    /// <summary>Writes a mask of 0 (probability p) or 1/(1 − p) for every element.</summary>
    /// <param name="mask">(N), overwritten.</param>
    public static unsafe void FillMask(Span<float> mask, float p, ulong seed)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Dropout);
        int N = mask.Length;
        float scale = 1f / (1f - p);
        // Keep when the top 24 bits of the hash, as a fraction of 2^24, are at least p.
        uint threshold = (uint)Math.Round(p * (1 << 24));
        fixed (float* pMask = mask)
        {
            nint m = (nint)pMask;
            Threads.For((N + ElementsPerUnit - 1) / ElementsPerUnit, 4L * N, unit =>
            {
                float* M = (float*)m;
                int end = Math.Min(N, (unit + 1) * ElementsPerUnit);
                for (int i = unit * ElementsPerUnit; i < end; i++) M[i] = (uint)(Hash(seed, (ulong)i) >> 40) >= threshold ? scale : 0f;
            });
        }
    }

    /// <summary>SplitMix64's finaliser over seed + index: a counter-based generator.</summary>
    static ulong Hash(ulong seed, ulong index)
    {
        ulong z = seed + (index + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
