namespace TokenSpace.Embeddings;

// Legend: T positions in use, C channels.

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
            throw new ArgumentException($"weight must hold {blockSize} × {channels} floats and grad as many (or none), got {weight.Length} and {grad.Length}");
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
}
