using System.Numerics;

namespace TokenSpace.Tensors;

// Legend: B batch rows, T positions, C channels, NH heads, hs = C / NH head size, half = hs / 2.
// qkv rows hold [q | k | v], each C wide, head h in columns h·hs … (h+1)·hs − 1 of its third.

/// <summary>
/// Rotary position embedding (Su et al., RoFormer) on the queries and keys of every head: the channel pair
/// (i, i + half) of position t turns by the angle <c>t·θᵢ</c>, <c>θᵢ = 10000^(−2i/hs)</c>, so that q·k depends on the
/// positions only through their distance. The pairing is GPT-NeoX's and Hugging Face LLaMA's "rotate half"
/// (<c>x·cos + rotate_half(x)·sin</c>), not RoFormer's interleaved (2i, 2i + 1), and it covers the whole head.
/// </summary>
/// <remarks>
/// Every element is <c>a·cos ∓ b·sin</c>, two rounded products and one rounded sum in the vector lanes and the tail
/// alike, so a row rotates to the same bits alone (decoding) or inside a batch.
/// </remarks>
public static class Rotary
{
    /// <summary>The base of the angles' geometric progression (RoFormer, GPT-NeoX, LLaMA).</summary>
    public const double Base = 10000;

    const int RowsPerUnit = 64;

    /// <summary>Writes the cosines and sines of <c>t·θᵢ</c> for positions 0 … T − 1, computed in double.</summary>
    /// <param name="cos">(T, half), overwritten.</param>
    /// <param name="sin">(T, half), overwritten.</param>
    /// <exception cref="ArgumentException">hs is not positive and even, or a table is not T·half long.</exception>
    public static void Table(Span<float> cos, Span<float> sin, int T, int hs)
    {
        if (hs < 2 || hs % 2 != 0) throw new ArgumentException($"rotary positions need an even head size, got {hs}", nameof(hs));
        int half = hs / 2;
        if (cos.Length != (long)T * half || sin.Length != cos.Length)
            throw new ArgumentException($"cos and sin must hold T·hs/2 = {(long)T * half} floats, got {cos.Length} and {sin.Length}");
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = t * Math.Pow(Base, -2.0 * i / hs);
                cos[t * half + i] = (float)Math.Cos(angle);
                sin[t * half + i] = (float)Math.Sin(angle);
            }
        }
    }

    /// <summary>
    /// Rotates q and k of every row in place: row (b, t) of <paramref name="qkv"/> by the angles of position
    /// <paramref name="start"/> + t; v is left alone.
    /// </summary>
    /// <param name="qkv">(B, T, 3C), rotated in place.</param>
    /// <param name="cos">(≥ start + T, half), from <see cref="Table"/>.</param>
    /// <param name="sin">(≥ start + T, half).</param>
    /// <param name="start">The position of the first row (a decoded token's place in the sequence).</param>
    public static void Forward(Span<float> qkv, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int B, int T, int C, int NH,
        int start = 0)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Attention);
        Rotate(qkv, cos, sin, B, T, C, NH, start, 1f);
    }

    /// <summary>
    /// The gradient of <see cref="Forward"/>, in place: the rotation is orthogonal, so the gradient with respect to the
    /// unrotated q and k is the gradient with respect to the rotated ones turned back by the same angles. v's is unchanged.
    /// </summary>
    /// <param name="dQkv">(B, T, 3C): in, the gradient of the rotated qkv; out, that of the unrotated one.</param>
    /// <param name="cos">(≥ T, half).</param>
    /// <param name="sin">(≥ T, half).</param>
    public static void Backward(Span<float> dQkv, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int B, int T, int C, int NH)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Attention);
        Rotate(dQkv, cos, sin, B, T, C, NH, 0, -1f);
    }

    /// <summary>Turns each pair (i, i + half) of q and k by <c>direction</c> × its angle: x₁·c − x₂·s, x₂·c + x₁·s (s = ±sin).</summary>
    static unsafe void Rotate(Span<float> qkv, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int B, int T, int C, int NH, int start,
        float direction)
    {
        int hs = C / NH, half = hs / 2, N = B * T;
        if (qkv.Length != (long)N * 3 * C)
            throw new ArgumentException($"qkv has {qkv.Length} floats, expected B·T·3C = {(long)N * 3 * C}", nameof(qkv));
        if (cos.Length < (long)(start + T) * half || sin.Length < (long)(start + T) * half)
            throw new ArgumentException($"the cos/sin tables must cover positions up to {start + T - 1}", nameof(cos));
        fixed (float* pQkv = qkv, pCos = cos, pSin = sin)
        {
            nint x = (nint)pQkv, c = (nint)pCos, s = (nint)pSin;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, 12L * N * C, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit), W = Vector<float>.Count;
                var sign = new Vector<float>(direction);
                for (int row = unit * RowsPerUnit; row < end; row++)
                {
                    float* cs = (float*)c + (long)(start + row % T) * half, sn = (float*)s + (long)(start + row % T) * half;
                    // The 2·NH head vectors of q and k lie side by side in the row's first 2C floats.
                    for (float* head = (float*)x + (long)row * 3 * C, last = head + 2 * C; head < last; head += hs)
                    {
                        float* a = head, b = head + half;
                        int i = 0;
                        for (; i + W <= half; i += W)
                        {
                            Vector<float> va = Vector.Load(a + i), vb = Vector.Load(b + i);
                            Vector<float> vc = Vector.Load(cs + i), vs = sign * Vector.Load(sn + i);
                            (va * vc - vb * vs).Store(a + i);
                            (vb * vc + va * vs).Store(b + i);
                        }
                        for (; i < half; i++)
                        {
                            float ai = a[i], bi = b[i], si = direction * sn[i];
                            a[i] = ai * cs[i] - bi * si;
                            b[i] = bi * cs[i] + ai * si;
                        }
                    }
                }
            });
        }
    }

    /// <summary>
    /// The slow, obvious <see cref="Forward"/> (the tests' oracle): each q and k pair of row (b, t) turned by
    /// <c>(start + t)·θᵢ</c> with the trigonometry in double; <paramref name="direction"/> −1 turns back (the backward).
    /// </summary>
    /// <param name="qkv">(B, T, 3C), rotated in place.</param>
    public static void ForwardScalar(Span<float> qkv, int B, int T, int C, int NH, int start = 0, int direction = 1)
    {
        int hs = C / NH, half = hs / 2;
        for (int b = 0; b < B; b++)
        {
            for (int t = 0; t < T; t++)
            {
                for (int h = 0; h < 2 * NH; h++)
                {
                    int at = (b * T + t) * 3 * C + h * hs;
                    for (int i = 0; i < half; i++)
                    {
                        double angle = direction * (start + t) * Math.Pow(Base, -2.0 * i / hs);
                        double x1 = qkv[at + i], x2 = qkv[at + i + half];
                        qkv[at + i] = (float)(x1 * Math.Cos(angle) - x2 * Math.Sin(angle));
                        qkv[at + i + half] = (float)(x2 * Math.Cos(angle) + x1 * Math.Sin(angle));
                    }
                }
            }
        }
    }
}
