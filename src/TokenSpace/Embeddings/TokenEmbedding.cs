using TokenSpace.Tensors;

namespace TokenSpace.Embeddings;

// Legend: B batch rows, T positions, V vocabulary size, C channels.

/// <summary>
/// The token embedding <c>wte</c> (V × C), PyTorch's <c>nn.Embedding</c>: forward looks up one row
/// per token id, backward scatter-adds the output gradient into the looked-up rows.
/// Weight and gradient may be slices of a larger parameter buffer (as in the GPT model).
/// </summary>
/// <remarks>
/// The options mean what they mean in PyTorch: <see cref="PaddingIdx"/> (that row gets no gradient
/// and <see cref="Initialize"/> zeroes it), <see cref="MaxNorm"/> with <see cref="NormType"/> (rows
/// looked up are renormalised in the weight, in place, before the lookup), <see cref="ScaleGradByFreq"/>
/// and <see cref="Frozen"/>. Example:
/// <code>
/// var wte = new TokenEmbedding(vocabSize: 65, channels: 32) { PaddingIdx = 0, MaxNorm = 1f };
/// wte.Initialize(EmbeddingInit.StandardNormal, new Rng(42));
/// wte.Forward(x, ids, B, T);       // x (B, T, C)
/// wte.Backward(dx, ids, B, T);     // wte.Grad += scatter of dx
/// </code>
/// </remarks>
public sealed class TokenEmbedding
{
    int? paddingIdx;
    float? maxNorm;
    float normType = 2f;
    bool frozen;

    /// <summary>A table with its own weight and gradient storage, zero-initialised.</summary>
    public TokenEmbedding(int vocabSize, int channels)
        : this(new float[(long)vocabSize * channels], new float[(long)vocabSize * channels], vocabSize, channels) { }

    /// <summary>
    /// A table over caller-owned storage: <paramref name="weight"/> and <paramref name="grad"/> are (V, C).
    /// An empty <paramref name="grad"/> makes a table that can only be <see cref="Frozen"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not match V × C.</exception>
    public TokenEmbedding(Memory<float> weight, Memory<float> grad, int vocabSize, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (weight.Length != (long)vocabSize * channels || (!grad.IsEmpty && grad.Length != weight.Length))
            throw new ArgumentException($"weight must hold {vocabSize} × {channels} floats and grad as many (or none), got " +
                $"{weight.Length} and {grad.Length}");
        VocabSize = vocabSize;
        Channels = channels;
        Weight = weight;
        Grad = grad;
        frozen = grad.IsEmpty;
    }

    /// <summary>
    /// A table over an existing (V, C) matrix, used in place (not copied), as PyTorch's
    /// <c>nn.Embedding.from_pretrained</c>. The padding row keeps its given values; it only gets no
    /// gradient. A frozen table gets no gradient storage.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="matrix"/> does not hold V × C floats.</exception>
    public static TokenEmbedding FromPretrained(Memory<float> matrix, int vocabSize, int channels, bool freeze = true,
        int? paddingIdx = null, float? maxNorm = null, float normType = 2f, bool scaleGradByFreq = false)
    {
        var grad = freeze ? Memory<float>.Empty : new float[matrix.Length];
        return new TokenEmbedding(matrix, grad, vocabSize, channels)
        {
            PaddingIdx = paddingIdx,
            MaxNorm = maxNorm,
            NormType = normType,
            ScaleGradByFreq = scaleGradByFreq,
            Frozen = freeze,
        };
    }

    /// <summary>V: the number of rows (token ids run 0..V−1).</summary>
    public int VocabSize { get; }

    /// <summary>C: the width of each row.</summary>
    public int Channels { get; }

    /// <summary>(V, C) row-major.</summary>
    public Memory<float> Weight { get; }

    /// <summary>(V, C) row-major, accumulated into by <see cref="Backward"/>; empty for a table made frozen without gradient
    /// storage.</summary>
    public Memory<float> Grad { get; }

    /// <summary>
    /// The id whose row gets no gradient (and is zeroed by <see cref="Initialize"/>), or null. A negative
    /// value counts from the end, as in PyTorch (−1 is V − 1); the property then holds the resolved id.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value lies outside [−V, V).</exception>
    public int? PaddingIdx
    {
        get => paddingIdx;
        set
        {
            if (value is int p && (p < -VocabSize || p >= VocabSize))
                throw new ArgumentOutOfRangeException(nameof(value), p, $"padding_idx must lie in [-{VocabSize}, {VocabSize})");
            paddingIdx = value is int q && q < 0 ? q + VocabSize : value;
        }
    }

    /// <summary>When set, every row looked up by <see cref="Forward"/> whose <see cref="NormType"/>-norm exceeds it is first rescaled in
    /// place to this norm.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or NaN.</exception>
    public float? MaxNorm
    {
        get => maxNorm;
        set => maxNorm = value is float m && !(m >= 0) ? throw new ArgumentOutOfRangeException(nameof(value), m, "max_norm must be ≥ 0")
            : value;
    }

    /// <summary>The p of the p-norm used with <see cref="MaxNorm"/>: any p &gt; 0 or +∞. Default 2.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public float NormType
    {
        get => normType;
        set => normType = !(value > 0) ? throw new ArgumentOutOfRangeException(nameof(value), value, "norm_type must be > 0 (or +∞)")
            : value;
    }

    /// <summary>Whether <see cref="Backward"/> divides each row's gradient by the number of times its id occurs in the batch.</summary>
    public bool ScaleGradByFreq { get; set; }

    /// <summary>Whether the table is fixed: <see cref="Backward"/> then adds nothing.</summary>
    /// <exception cref="InvalidOperationException">Unfreezing a table that has no gradient storage.</exception>
    public bool Frozen
    {
        get => frozen;
        set => frozen = !value && Grad.IsEmpty
            ? throw new InvalidOperationException("this table has no gradient storage, so it cannot be unfrozen") : value;
    }

    /// <summary>Draws every weight by <paramref name="init"/> from <paramref name="rng"/>, then zeroes the <see cref="PaddingIdx"/>
    /// row.</summary>
    public void Initialize(EmbeddingInit init, Rng rng)
    {
        EmbeddingInitializer.Fill(Weight.Span, Channels, init, rng);
        if (PaddingIdx is int p) Weight.Span.Slice(p * Channels, Channels).Clear();
    }

    /// <summary>
    /// Looks up <c>output[b, t] = W[ids[b, t]]</c>, after renormalising the looked-up rows in place
    /// when <see cref="MaxNorm"/> is set.
    /// </summary>
    /// <param name="output">(B, T, C), overwritten.</param>
    /// <param name="ids">(B, T) token ids.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id lies outside [0, V); names the batch row, position, value and limit. Nothing is
    /// written.</exception>
    /// <exception cref="ArgumentException"><paramref name="ids"/> or <paramref name="output"/> has the wrong length.</exception>
    public void Forward(Span<float> output, ReadOnlySpan<int> ids, int B, int T)
    {
        CheckIds(ids, B, T, VocabSize);
        if (output.Length != (long)B * T * Channels)
            throw new ArgumentException($"output has {output.Length} floats, expected B·T·C = {(long)B * T * Channels}", nameof(output));
        if (MaxNorm is float m) Embedding.Renorm(Weight.Span, ids, Channels, m, NormType);
        Embedding.Gather(output, Weight.Span, ids, Channels);
    }

    /// <summary>
    /// Adds <c>dOut[b, t]</c> into <c>Grad[ids[b, t]]</c> (divided by the id's count with
    /// <see cref="ScaleGradByFreq"/>; nothing for <see cref="PaddingIdx"/>; nothing at all when <see cref="Frozen"/>).
    /// </summary>
    /// <param name="dOut">(B, T, C).</param>
    /// <param name="ids">(B, T), the ids given to <see cref="Forward"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id lies outside [0, V). Nothing is added.</exception>
    public void Backward(ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int B, int T)
    {
        CheckIds(ids, B, T, VocabSize);
        if (dOut.Length != (long)B * T * Channels)
            throw new ArgumentException($"dOut has {dOut.Length} floats, expected B·T·C = {(long)B * T * Channels}", nameof(dOut));
        if (Frozen) return;
        Embedding.ScatterAdd(Grad.Span, dOut, ids, Channels, PaddingIdx ?? -1, ScaleGradByFreq);
    }

    /// <summary>
    /// Checks every id once, at the boundary, before anything is written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Names batch row, position, value and the limit.</exception>
    /// <exception cref="ArgumentException"><paramref name="ids"/> does not hold B × T entries.</exception>
    public static void CheckIds(ReadOnlySpan<int> ids, int B, int T, int V)
    {
        if (ids.Length != (long)B * T)
            throw new ArgumentException($"ids has {ids.Length} entries, expected B·T = {B} × {T}", nameof(ids));
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)V)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i],
                    $"token id {ids[i]} at batch row {i / T}, position {i % T} is outside [0, {V})");
            }
        }
    }
}
