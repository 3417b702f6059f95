using TokenSpace.Tensors;

namespace TokenSpace.Embeddings;

/// <summary>How an embedding table's weights are drawn.</summary>
public enum EmbeddingInit
{
    /// <summary>N(0, 0.02²): GPT-2 and nanoGPT.</summary>
    Gpt2Normal,
    /// <summary>N(0, 1): PyTorch's <c>nn.Embedding</c> default.</summary>
    StandardNormal,
    /// <summary>U(−√(1/C), √(1/C)), C the row width: the fan-in scaled uniform of <c>nn.Linear</c>.</summary>
    Uniform,
}

static class EmbeddingInitializer
{
    /// <summary>Fills a (rows, C) table by <paramref name="init"/>, drawing from <paramref name="rng"/> in row-major order.</summary>
    public static void Fill(Span<float> table, int channels, EmbeddingInit init, Rng rng)
    {
        switch (init)
        {
            case EmbeddingInit.Gpt2Normal: rng.FillGaussian(table, 0, 0.02); break;
            case EmbeddingInit.StandardNormal: rng.FillGaussian(table, 0, 1); break;
            case EmbeddingInit.Uniform:
                double bound = Math.Sqrt(1.0 / channels);
                rng.FillUniform(table, -bound, bound);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(init), init, "unknown initialisation");
        }
    }
}
