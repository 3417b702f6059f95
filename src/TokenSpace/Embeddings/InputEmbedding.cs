namespace TokenSpace.Embeddings;

// Legend: B batch rows, T positions, C channels.

/// <summary>
/// The GPT input: <c>x[b, t] = wte[ids[b, t]] + wpe[t]</c>, with the backward pass into both tables; without a position
/// table (rotary positions act inside attention, or none at all) just <c>wte[ids[b, t]]</c>.
/// </summary>
public sealed class InputEmbedding(TokenEmbedding tokens, PositionEmbedding? positions)
{
    /// <summary>wte.</summary>
    public TokenEmbedding Tokens { get; } = positions is null || tokens.Channels == positions.Channels
        ? tokens
        : throw new ArgumentException($"wte has {tokens.Channels} channels but wpe has {positions.Channels}");

    /// <summary>wpe (learned or sinusoidal), or null when nothing is added.</summary>
    public PositionEmbedding? Positions { get; } = positions;

    /// <summary>Writes <c>output[b, t] = wte[ids[b, t]] + wpe[t]</c>.</summary>
    /// <param name="output">(B, T, C), overwritten.</param>
    /// <param name="ids">(B, T).</param>
    /// <exception cref="ArgumentOutOfRangeException">T exceeds block_size, or an id lies outside [0, V). Nothing is written.</exception>
    public void Forward(Span<float> output, ReadOnlySpan<int> ids, int B, int T)
    {
        // Both checks run before the first write.
        Positions?.CheckLength(B, T);
        Tokens.Forward(output, ids, B, T);
        Positions?.AddTo(output, B, T);
    }

    /// <summary>Adds the gradient of <see cref="Forward"/> into wte's and (when learned) wpe's gradients.</summary>
    /// <param name="dOut">(B, T, C).</param>
    /// <param name="ids">(B, T), the ids given to <see cref="Forward"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">T exceeds block_size, or an id lies outside [0, V). Nothing is added.</exception>
    public void Backward(ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int B, int T)
    {
        Positions?.CheckLength(B, T);
        Tokens.Backward(dOut, ids, B, T);
        Positions?.Backward(dOut, B, T);
    }
}
