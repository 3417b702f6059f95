using System.Numerics.Tensors;
using TokenSpace.Tensors;

namespace TokenSpace.Embeddings;

// Legend: B batch rows, T positions in use, C channels.

/// <summary>
/// The position embedding <c>wpe</c> (block_size × C): row t is added to the token at position t.
/// Learned (trained like any weight) or fixed sinusoidal (Vaswani et al., no gradient).
/// </summary>
public sealed class PositionEmbedding
{
    /// <summary>A learned table over caller-owned (block_size, C) storage.</summary>
    public PositionEmbedding(Memory<float> weight, Memory<float> grad, int blockSize, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (weight.Length != (long)blockSize * channels || (!grad.IsEmpty && grad.Length != weight.Length))
            throw new ArgumentException($"weight must hold {blockSize} × {channels} floats and grad as many (or none), got " +
                $"{weight.Length} and {grad.Length}");
        BlockSize = blockSize;
        Channels = channels;
        Weight = weight;
        Grad = grad;
    }

    /// <summary>The longest sequence this table can place.</summary>
    public int BlockSize { get; }

    /// <summary>C: the width of each row.</summary>
    public int Channels { get; }

    /// <summary>(block_size, C) row-major.</summary>
    public Memory<float> Weight { get; }

    /// <summary>(block_size, C), or empty for a fixed table.</summary>
    public Memory<float> Grad { get; }

    /// <summary>Whether the table is trained (false for sinusoidal).</summary>
    public bool Learned => !Grad.IsEmpty;

    /// <summary>A learned table with its own zero-initialised storage.</summary>
    public static PositionEmbedding CreateLearned(int blockSize, int channels) =>
        new(new float[(long)blockSize * channels], new float[(long)blockSize * channels], blockSize, channels);

    /// <summary>
    /// The fixed sinusoidal table: <c>PE[t, 2i] = sin(t / 10000^(2i/C))</c>, <c>PE[t, 2i+1] = cos(…)</c>.
    /// </summary>
    public static PositionEmbedding CreateSinusoidal(int blockSize, int channels)
    {
        var table = new float[(long)blockSize * channels];
        for (int t = 0; t < blockSize; t++)
        {
            for (int i = 0; i < channels; i += 2)
            {
                double angle = t / Math.Pow(10000.0, (double)i / channels);
                table[t * channels + i] = (float)Math.Sin(angle);
                if (i + 1 < channels) table[t * channels + i + 1] = (float)Math.Cos(angle);
            }
        }
        return new PositionEmbedding(table, Memory<float>.Empty, blockSize, channels);
    }

    /// <summary>Draws a learned table by <paramref name="init"/> from <paramref name="rng"/> (GPT-2 uses
    /// <see cref="EmbeddingInit.Gpt2Normal"/>).</summary>
    /// <exception cref="InvalidOperationException">The table is fixed (sinusoidal).</exception>
    public void Initialize(EmbeddingInit init, Rng rng)
    {
        if (!Learned) throw new InvalidOperationException("a fixed (sinusoidal) position table cannot be re-initialised");
        EmbeddingInitializer.Fill(Weight.Span, Channels, init, rng);
    }

    /// <summary>Adds the position rows to a batch: <c>x[b, t] += wpe[t]</c>.</summary>
    /// <param name="x">(B, T, C), added into.</param>
    /// <exception cref="ArgumentOutOfRangeException">T exceeds <see cref="BlockSize"/>. Nothing is written.</exception>
    public void AddTo(Span<float> x, int B, int T)
    {
        CheckLength(B, T);
        CheckBatch(x.Length, B, T, nameof(x));
        var rows = Weight.Span[..(T * Channels)];
        for (int b = 0; b < B; b++)
        {
            var dst = x.Slice(b * T * Channels, T * Channels);
            TensorPrimitives.Add(dst, rows, dst);
        }
    }

    /// <summary>The gradient of <see cref="AddTo"/>: <c>Grad[t] += Σ_b dOut[b, t]</c>, in increasing b. Nothing for a fixed
    /// table.</summary>
    /// <param name="dOut">(B, T, C).</param>
    /// <exception cref="ArgumentOutOfRangeException">T exceeds <see cref="BlockSize"/>. Nothing is added.</exception>
    public void Backward(ReadOnlySpan<float> dOut, int B, int T)
    {
        CheckLength(B, T);
        CheckBatch(dOut.Length, B, T, nameof(dOut));
        if (!Learned) return;
        var grad = Grad.Span[..(T * Channels)];
        for (int b = 0; b < B; b++) TensorPrimitives.Add(grad, dOut.Slice(b * T * Channels, T * Channels), grad);
    }

    /// <summary>Checks that a batch of B sequences of length T can be placed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// T exceeds <see cref="BlockSize"/>; names the first batch row and position that has no row in the table, the length and the limit.
    /// </exception>
    public void CheckLength(int B, int T)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(B);
        ArgumentOutOfRangeException.ThrowIfNegative(T);
        if (T > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(T), T,
                $"sequence of length {T} > block_size {BlockSize}: batch row 0, position {BlockSize} has no position embedding " +
                    "(positions " +
                    $"run 0..{BlockSize - 1})");
        }
    }

    void CheckBatch(int length, int B, int T, string name)
    {
        if (length != (long)B * T * Channels)
            throw new ArgumentException($"{name} has {length} floats, expected B·T·C = {(long)B * T * Channels}", name);
    }
}
