using TokenSpace.Tensors;

namespace TokenSpace.Embeddings;

// Legend: B batch rows, T positions, V vocabulary size, C channels.

/// <summary>
/// The token embedding <c>wte</c> (V × C), PyTorch's <c>nn.Embedding</c>: forward looks up one row
/// per token id, backward scatter-adds the output gradient into the looked-up rows.
/// Weight and gradient may be slices of a larger parameter buffer (as in the GPT model).
/// </summary>
public sealed class TokenEmbedding
{
    /// <summary>A table with its own weight and gradient storage, zero-initialised.</summary>
    public TokenEmbedding(int vocabSize, int channels)
        : this(new float[(long)vocabSize * channels], new float[(long)vocabSize * channels], vocabSize, channels) { }

    /// <summary>A table over caller-owned storage: <paramref name="weight"/> and <paramref name="grad"/> are (V, C).</summary>
    public TokenEmbedding(Memory<float> weight, Memory<float> grad, int vocabSize, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (weight.Length != (long)vocabSize * channels || grad.Length != weight.Length)
            throw new ArgumentException($"weight and grad must both hold {vocabSize} × {channels} floats, got {weight.Length} and {grad.Length}");
        VocabSize = vocabSize;
        Channels = channels;
        Weight = weight;
        Grad = grad;
    }

    /// <summary>V: the number of rows (token ids run 0..V−1).</summary>
    public int VocabSize { get; }

    /// <summary>C: the width of each row.</summary>
    public int Channels { get; }

    /// <summary>(V, C) row-major.</summary>
    public Memory<float> Weight { get; }

    /// <summary>(V, C) row-major, accumulated into by <see cref="Backward"/>.</summary>
    public Memory<float> Grad { get; }

    /// <summary>
    /// Looks up <c>output[b, t] = W[ids[b, t]]</c>.
    /// </summary>
    /// <param name="output">(B, T, C), overwritten.</param>
    /// <param name="ids">(B, T) token ids.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id lies outside [0, V); names the batch row, position and value. Nothing is written.</exception>
    public void Forward(Span<float> output, ReadOnlySpan<int> ids, int B, int T)
    {
        CheckIds(ids, B, T, VocabSize);
        if (output.Length != (long)B * T * Channels)
            throw new ArgumentException($"output has {output.Length} floats, expected B·T·C = {(long)B * T * Channels}", nameof(output));
        Embedding.Gather(output, Weight.Span, ids, Channels);
    }

    /// <summary>Adds <c>dOut[b, t]</c> into <c>Grad[ids[b, t]]</c>.</summary>
    /// <param name="dOut">(B, T, C).</param>
    /// <param name="ids">(B, T), the ids given to <see cref="Forward"/>.</param>
    public void Backward(ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int B, int T)
    {
        CheckIds(ids, B, T, VocabSize);
        Embedding.ScatterAdd(Grad.Span, dOut, ids, Channels);
    }

    /// <summary>
    /// Checks every id once, at the boundary, before anything is written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Names batch row, position, value and the limit.</exception>
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
