using TokenSpace.Model;
using TokenSpace.Tensors;

namespace TokenSpace.Training;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov &amp; Hutter; PyTorch's <c>AdamW</c>), over the model's one
/// parameter buffer. Weight decay applies only to Linear weights (<see cref="ParameterKind.Matrix"/>),
/// never to embeddings, biases or norm weights. With decay 0 it is plain Adam (microgpt's update).
/// </summary>
public sealed class AdamW
{
    const int Chunk = 16384;
    readonly IReadOnlyList<ParameterSlice> slices;

    /// <summary>Zero moments for <paramref name="slices"/> (the model's layout).</summary>
    public AdamW(IReadOnlyList<ParameterSlice> slices, float beta1, float beta2, float eps, float weightDecay)
    {
        this.slices = slices;
        int total = slices.Count == 0 ? 0 : slices[^1].Offset + slices[^1].Length;
        M = new float[total];
        V = new float[total];
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }

    /// <summary>First moments, laid out as the parameters.</summary>
    public float[] M { get; }

    /// <summary>Second moments, laid out as the parameters.</summary>
    public float[] V { get; }

    /// <summary>Updates taken so far (the t of the bias corrections).</summary>
    public int Steps { get; set; }

    /// <summary>
    /// One update: <c>p −= lr·wd·p</c> (Linear weights only), then <c>m = β1 m + (1−β1) g</c>,
    /// <c>v = β2 v + (1−β2) g²</c>, <c>p −= lr · m̂ / (√v̂ + eps)</c> with bias-corrected m̂, v̂.
    /// </summary>
    public unsafe void Update(float[] parameters, float[] gradients, float lr)
    {
        Steps++;
        float bc1 = (float)(1 - Math.Pow(Beta1, Steps)), bc2 = (float)(1 - Math.Pow(Beta2, Steps));
        float b1 = Beta1, b2 = Beta2, eps = Eps;
        foreach (var s in slices)
        {
            float decay = s.Kind == ParameterKind.Matrix ? 1f - lr * WeightDecay : 1f;
            fixed (float* pp = parameters, pg = gradients, pm = M, pv = V)
            {
                nint p = (nint)pp, g = (nint)pg, m = (nint)pm, v = (nint)pv;
                int start = s.Offset, length = s.Length;
                Threads.For((length + Chunk - 1) / Chunk, unit =>
                {
                    // Locals, not captured fields, in the loop: stores through the pointers could alias the closure.
                    float* P = (float*)p, G = (float*)g, Mo = (float*)m, Vo = (float*)v;
                    float beta1 = b1, beta2 = b2, c1 = bc1, c2 = bc2, e = eps, rate = lr, keep = decay;
                    int end = start + Math.Min(length, (unit + 1) * Chunk);
                    for (int i = start + unit * Chunk; i < end; i++)
                    {
                        float gi = G[i];
                        float mi = Mo[i] = beta1 * Mo[i] + (1f - beta1) * gi;
                        float vi = Vo[i] = beta2 * Vo[i] + (1f - beta2) * gi * gi;
                        P[i] = P[i] * keep - rate * (mi / c1) / (MathF.Sqrt(vi / c2) + e);
                    }
                });
            }
        }
    }

    /// <summary>
    /// Scales <paramref name="gradients"/> so their global L2 norm is at most <paramref name="maxNorm"/>
    /// (PyTorch's <c>clip_grad_norm_</c>) and returns the norm before clipping. The norm is summed in
    /// fixed chunks, in order, in double: the same for any thread count.
    /// </summary>
    public static unsafe float ClipGradNorm(float[] gradients, float maxNorm)
    {
        int units = (gradients.Length + Chunk - 1) / Chunk;
        var partial = new double[units];
        fixed (float* pg = gradients)
        {
            nint g = (nint)pg;
            int n = gradients.Length;
            Threads.For(units, unit =>
            {
                double sum = 0;
                int end = Math.Min(n, (unit + 1) * Chunk);
                for (int i = unit * Chunk; i < end; i++) sum += (double)((float*)g)[i] * ((float*)g)[i];
                partial[unit] = sum;
            });
        }
        double total = 0;
        foreach (double p in partial) total += p;
        float norm = (float)Math.Sqrt(total);
        if (maxNorm > 0 && norm > maxNorm)
        {
            float scale = maxNorm / (norm + 1e-6f);
            System.Numerics.Tensors.TensorPrimitives.Multiply(gradients, scale, gradients);
        }
        return norm;
    }
}
