namespace TokenSpace.Model;

/// <summary>How each token's vector is normalised.</summary>
public enum NormKind
{
    /// <summary>LayerNorm with a weight (and a bias when <see cref="GptConfig.Bias"/>), as GPT-2.</summary>
    LayerNorm,

    /// <summary>RMSNorm without weights, as microgpt.</summary>
    RmsNorm,
}

/// <summary>The MLP non-linearity.</summary>
public enum Activation
{
    /// <summary>GELU, tanh form (GPT-2's <c>gelu_new</c>).</summary>
    Gelu,

    /// <summary>ReLU (microgpt).</summary>
    Relu,
}

/// <summary>How a token learns where it stands in the sequence.</summary>
public enum PositionKind
{
    /// <summary>A trained table <c>wpe</c> (block_size, C) added to <c>wte[tok]</c>, as GPT-2 and nanoGPT.</summary>
    Learned,

    /// <summary>The Transformer paper's fixed sinusoids added to <c>wte[tok]</c>: no trainable <c>wpe</c>.</summary>
    Sinusoidal,

    /// <summary>
    /// Rotary embeddings (RoFormer) on each head's q and k, base 10000, over the whole head, pairing channel i with
    /// i + hs/2 ("rotate half", as GPT-NeoX and Hugging Face LLaMA): no <c>wpe</c> tensor.
    /// </summary>
    Rope,

    /// <summary>No position information: only the causal mask tells positions apart.</summary>
    None,
}

/// <summary>
/// The shape and switches of a GPT. The defaults are GPT-2 / nanoGPT's architecture; <see cref="MicroGpt"/>
/// gives Karpathy's microgpt. Everything the model needs to be rebuilt is here (and in config.json).
/// </summary>
public sealed record GptConfig
{
    /// <summary>V: token ids run 0..V−1 (for characters: the distinct characters plus BOS).</summary>
    public required int VocabSize { get; init; }

    /// <summary>The longest sequence (wpe rows). 256 is nanoGPT's shakespeare-char context.</summary>
    public int BlockSize { get; init; } = 256;

    /// <summary>How positions are encoded: GPT-2's learned wpe by default.</summary>
    public PositionKind Positions { get; init; } = PositionKind.Learned;

    /// <summary>Number of transformer blocks.</summary>
    public int Layers { get; init; } = 6;

    /// <summary>Number of attention heads; must divide <see cref="Channels"/>.</summary>
    public int Heads { get; init; } = 6;

    /// <summary>C, the width of every token vector (n_embd).</summary>
    public int Channels { get; init; } = 384;

    /// <summary>Normalisation of the blocks (and of the embedding and the output when those are on).</summary>
    public NormKind Norm { get; init; } = NormKind.LayerNorm;

    /// <summary>1e-5 is PyTorch's LayerNorm default, and what GPT-2 and microgpt use.</summary>
    public float NormEpsilon { get; init; } = 1e-5f;

    /// <summary>GELU is GPT-2's; ReLU is microgpt's.</summary>
    public Activation Activation { get; init; } = Activation.Gelu;

    /// <summary>Biases in every Linear and LayerNorm (GPT-2: yes; nanoGPT's train.py and microgpt: no).</summary>
    public bool Bias { get; init; } = true;

    /// <summary>lm_head shares wte's storage (GPT-2): the output layer scores a token by its input vector.</summary>
    public bool TiedLmHead { get; init; } = true;

    /// <summary>Normalise <c>wte[tok] + wpe[pos]</c> before the first block (microgpt does; GPT-2 does not).</summary>
    public bool EmbeddingNorm { get; init; }

    /// <summary>Normalise the last block's output before lm_head (GPT-2's ln_f; microgpt has none).</summary>
    public bool FinalNorm { get; init; } = true;

    /// <summary>Std of every weight matrix and embedding at initialisation: GPT-2's 0.02 (microgpt: 0.08).</summary>
    public float InitStd { get; init; } = 0.02f;

    /// <summary>
    /// Scale the residual projections' init (attn.c_proj, mlp.c_proj) by 1/√(2·Layers), as GPT-2, so the
    /// residual stream's variance does not grow with depth.
    /// </summary>
    public bool ScaleResidualInit { get; init; } = true;

    /// <summary>Dropout probability on the embedding, attention weights and residual branches, in training only (0: off).</summary>
    public float Dropout { get; init; }

    /// <summary>hs = C / NH.</summary>
    public int HeadSize => Channels / Heads;

    /// <summary>Karpathy's microgpt (2026 gist): 1 layer, 4 heads, 16 channels, context 16, RMSNorm, ReLU, no biases, untied.</summary>
    public static GptConfig MicroGpt(int vocabSize) => new()
    {
        VocabSize = vocabSize,
        BlockSize = 16,
        Layers = 1,
        Heads = 4,
        Channels = 16,
        Norm = NormKind.RmsNorm,
        Activation = Activation.Relu,
        Bias = false,
        TiedLmHead = false,
        EmbeddingNorm = true,
        FinalNorm = false,
        InitStd = 0.08f,
        ScaleResidualInit = false,
    };

    /// <summary>Checks the shape is buildable.</summary>
    /// <exception cref="ArgumentException">
    /// A size is not positive, heads do not divide channels, rotary positions with an odd head size, or dropout is outside [0, 1).
    /// </exception>
    public void Validate()
    {
        if (VocabSize < 1) throw new ArgumentException($"vocab_size must be at least 1, got {VocabSize}");
        if (BlockSize < 1) throw new ArgumentException($"block_size must be at least 1, got {BlockSize}");
        if (Layers < 0) throw new ArgumentException($"n_layer must not be negative, got {Layers}");
        if (Heads < 1 || Channels < 1 || Channels % Heads != 0)
            throw new ArgumentException($"n_embd {Channels} must be a positive multiple of n_head {Heads}");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"dropout must lie in [0, 1), got {Dropout}");
        if (Positions == PositionKind.Rope && HeadSize % 2 != 0)
            throw new ArgumentException($"rotary positions pair a head's channels; head size n_embd / n_head = {HeadSize} must be even");
        if (!(NormEpsilon > 0)) throw new ArgumentException($"layer_norm_epsilon must be positive, got {NormEpsilon}");
        if (CoreParameters > Array.MaxLength)
        {
            throw new ArgumentException(
                $"vocab_size {VocabSize}, n_positions {BlockSize}, n_embd {Channels} and n_layer {Layers} make at least " +
                    $"{CoreParameters:G3} parameters, more than one array holds ({Array.MaxLength})");
        }
    }

    /// <summary>
    /// The parameters every variant of this shape has at least: wte, a learned wpe and each block's four weight
    /// matrices (12·C²), norms and biases aside. In double, so that an absurd config cannot overflow it;
    /// a reader compares it with the size of the weights file before allocating anything.
    /// </summary>
    public double CoreParameters =>
        ((double)VocabSize + (Positions == PositionKind.Learned ? BlockSize : 0)) * Channels + 12.0 * Layers * Channels * Channels;
}
