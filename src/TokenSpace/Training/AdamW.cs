using System.Numerics;
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
    /// <summary>The units of an update: runs of at most <see cref="Chunk"/> floats inside one slice, and whether that slice is
    /// weight-decayed.</summary>
    readonly (int Start, int End, bool Decayed)[] chunks;

    /// <summary>Zero moments for <paramref name="slices"/> (the model's layout).</summary>
    public AdamW(IReadOnlyList<ParameterSlice> slices, float beta1, float beta2, float eps, float weightDecay)
    {
        chunks = [.. slices.SelectMany(s => Enumerable.Range(0, (s.Length + Chunk - 1) / Chunk).Select(c =>
            (s.Offset + c * Chunk, s.Offset + Math.Min(s.Length, (c + 1) * Chunk), s.Kind == ParameterKind.Matrix)))];
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
    /// <c>v = β2 v + (1−β2) g²</c>, <c>p −= lr · m̂ / (√v̂ + eps)</c> with bias-corrected m̂, v̂. Vector lanes and
    /// the scalar tail take the same IEEE steps (no fused multiply-adds), so every element gets the same bits.
    /// </summary>
    public unsafe void Update(float[] parameters, float[] gradients, float lr)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Optimizer);
        Steps++;
        float bc1 = (float)(1 - Math.Pow(Beta1, Steps)), bc2 = (float)(1 - Math.Pow(Beta2, Steps));
        float b1 = Beta1, b2 = Beta2, eps = Eps, matrixDecay = 1f - lr * WeightDecay;
        fixed (float* pp = parameters, pg = gradients, pm = M, pv = V)
        {
            nint p = (nint)pp, g = (nint)pg, m = (nint)pm, v = (nint)pv;
            Threads.For(chunks.Length, unit =>
            {
                var (start, end, decayed) = chunks[unit];
                // Locals, not captured fields, in the loop: stores through the pointers could alias the closure.
                float* P = (float*)p, G = (float*)g, Mo = (float*)m, Vo = (float*)v;
                float beta1 = b1, beta2 = b2, c1 = bc1, c2 = bc2, e = eps, rate = lr, keep = decayed ? matrixDecay : 1f;
                int i = start, W = Vector<float>.Count;
                for (; i + W <= end; i += W)
                {
                    var gi = Vector.Load(G + i);
                    var mi = new Vector<float>(beta1) * Vector.Load(Mo + i) + new Vector<float>(1f - beta1) * gi;
                    var vi = new Vector<float>(beta2) * Vector.Load(Vo + i) + new Vector<float>(1f - beta2) * gi * gi;
                    mi.Store(Mo + i);
                    vi.Store(Vo + i);
                    var step = new Vector<float>(rate) * (mi / new Vector<float>(c1)) / (Vector.SquareRoot(vi / new Vector<float>(c2))
                        + new Vector<float>(e));
                    (Vector.Load(P + i) * new Vector<float>(keep) - step).Store(P + i);
                }
                for (; i < end; i++)
                {
                    float gi = G[i];
                    float mi = Mo[i] = beta1 * Mo[i] + (1f - beta1) * gi;
                    float vi = Vo[i] = beta2 * Vo[i] + (1f - beta2) * gi * gi;
                    P[i] = P[i] * keep - rate * (mi / c1) / (MathF.Sqrt(vi / c2) + e);
                }
            });
        }
    }

    /// <summary>
    /// Scales <paramref name="gradients"/> so their global L2 norm is at most <paramref name="maxNorm"/>
    /// (PyTorch's <c>clip_grad_norm_</c>) and returns the norm before clipping. The norm is summed in
    /// fixed chunks, each in a fixed order, in double: the same for any thread count.
    /// </summary>
    public static unsafe float ClipGradNorm(float[] gradients, float maxNorm)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Optimizer);
        int units = (gradients.Length + Chunk - 1) / Chunk;
        var partial = new double[units];
        fixed (float* pg = gradients)
        {
            nint g = (nint)pg;
            int n = gradients.Length;
            Threads.For(units, unit =>
            {
                float* G = (float*)g;
                int i = unit * Chunk, end = Math.Min(n, (unit + 1) * Chunk);
                var sums = Vector<double>.Zero;
                for (; i + Vector<float>.Count <= end; i += Vector<float>.Count)
                {
                    Vector.Widen(Vector.Load(G + i), out var low, out var high);
                    sums += low * low + high * high;
                }
                double sum = Vector.Sum(sums);
                for (; i < end; i++) sum += (double)G[i] * G[i];
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
