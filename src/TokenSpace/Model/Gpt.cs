using System.Numerics.Tensors;
using TokenSpace.Embeddings;
using TokenSpace.Tensors;

namespace TokenSpace.Model;

// Legend (llm.c): B batch rows, T positions, C channels, V vocabulary size, NH heads, L layers,
// N = B·T rows. Weights are stored (OC, C) as in Tensors/MatMul; the checkpoint transposes them to
// Hugging Face's Conv1D (C, OC) layout.

/// <summary>What a parameter tensor is, which decides its initialisation and whether it is weight-decayed.</summary>
public enum ParameterKind
{
    /// <summary>wte or wpe: N(0, InitStd), never decayed.</summary>
    Embedding,

    /// <summary>A Linear weight: N(0, InitStd) (residual projections scaled), decayed.</summary>
    Matrix,

    /// <summary>A Linear or LayerNorm bias: zero, never decayed.</summary>
    Bias,

    /// <summary>A LayerNorm weight: one, never decayed.</summary>
    NormWeight,
}

/// <summary>One named tensor inside the model's single parameter buffer.</summary>
/// <param name="Name">The Hugging Face GPT-2 name (<c>h.0.attn.c_attn.weight</c>).</param>
/// <param name="Offset">Where it starts in <see cref="Gpt.Parameters"/> (and <see cref="Gpt.Gradients"/>).</param>
/// <param name="Shape">Its shape here: (OC, C) for Linear weights.</param>
public sealed record ParameterSlice(string Name, int Offset, int[] Shape, ParameterKind Kind)
{
    /// <summary>Number of floats.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);

    /// <summary>Whether the checkpoint stores it transposed: every Linear weight except lm_head is a Conv1D (C, OC) in GPT-2.</summary>
    public bool Conv1D => Kind == ParameterKind.Matrix && Name != "lm_head.weight";

    /// <summary>The shape in the checkpoint.</summary>
    public long[] FileShape => Conv1D ? [Shape[1], Shape[0]] : [.. Shape.Select(d => (long)d)];
}

/// <summary>
/// A GPT (GPT-2 / nanoGPT or microgpt, see <see cref="GptConfig"/>) with explicit forward and backward
/// passes. All parameters live in one array, all gradients in a second, and every activation is
/// allocated once for the largest (B, T) given to the constructor; a training step allocates no arrays.
/// A model built for inference only has no gradients or backward buffers, and can decode one token at a
/// time with a key/value cache (<see cref="Decode"/>).
/// </summary>
public sealed partial class Gpt
{
    /// <summary>One block: where its tensors sit in the flat buffers, and its activations.</summary>
    sealed class Layer
    {
        // Offsets into Parameters (and Gradients); -1 for a tensor the config lacks.
        public int Ln1W = -1, Ln1B = -1, QkvW, QkvB = -1, AttProjW, AttProjB = -1;
        public int Ln2W = -1, Ln2B = -1, FcW, FcB = -1, FcProjW, FcProjB = -1;

        // Activations, sized for (maxB, maxT); a forward on (B, T) uses the first B·T rows.
        public float[] Ln1 = [], Ln1Mean = [], Ln1Rstd = [], Qkv = [], Atty = [], Att = [], AttProj = [], Res2 = [];
        public float[] Ln2 = [], Ln2Mean = [], Ln2Rstd = [], Fch = [], FchAct = [], FcProj = [], Res3 = [];

        // Dropout masks (only when the config has dropout): attention weights, and the two residual branches.
        public float[] AttMask = [], AttProjMask = [], FcProjMask = [];
    }

    /// <summary>
    /// One block's tensors in one flat buffer, the parameters or their gradients (llm.c's ParameterTensors
    /// at layer l). A tensor the config lacks (a bias without <c>bias</c>, norm weights with RMSNorm) is empty.
    /// </summary>
    readonly ref struct BlockTensors
    {
        public readonly Span<float> Ln1W, Ln1B;       // (C)
        public readonly Span<float> QkvW, QkvB;       // (3C, C), (3C)
        public readonly Span<float> AttProjW, AttProjB; // (C, C), (C)
        public readonly Span<float> Ln2W, Ln2B;       // (C)
        public readonly Span<float> FcW, FcB;         // (4C, C), (4C)
        public readonly Span<float> FcProjW, FcProjB; // (C, 4C), (C)

        public BlockTensors(Layer layer, float[] buffer, int C)
        {
            Ln1W = View(buffer, layer.Ln1W, C);
            Ln1B = View(buffer, layer.Ln1B, C);
            QkvW = View(buffer, layer.QkvW, 3 * C * C);
            QkvB = View(buffer, layer.QkvB, 3 * C);
            AttProjW = View(buffer, layer.AttProjW, C * C);
            AttProjB = View(buffer, layer.AttProjB, C);
            Ln2W = View(buffer, layer.Ln2W, C);
            Ln2B = View(buffer, layer.Ln2B, C);
            FcW = View(buffer, layer.FcW, 4 * C * C);
            FcB = View(buffer, layer.FcB, 4 * C);
            FcProjW = View(buffer, layer.FcProjW, C * 4 * C);
            FcProjB = View(buffer, layer.FcProjB, C);
        }
    }

    /// <summary>
    /// One block's activations for the pass's (B, T): the first N = B·T rows of each buffer (llm.c's
    /// ActivationTensors at layer l). The dropout masks are empty when the pass has no dropout.
    /// </summary>
    readonly ref struct BlockActivations
    {
        public readonly Span<float> Ln1, Ln1Mean, Ln1Rstd; // (N, C), (N), (N)
        public readonly Span<float> Qkv;                   // (N, 3C)
        public readonly Span<float> Att, AttMask;          // (B, NH, T, T)
        public readonly Span<float> Atty;                  // (N, C)
        public readonly Span<float> AttProj, AttProjMask;  // (N, C)
        public readonly Span<float> Res2;                  // (N, C)
        public readonly Span<float> Ln2, Ln2Mean, Ln2Rstd; // (N, C), (N), (N)
        public readonly Span<float> Fch, FchAct;           // (N, 4C)
        public readonly Span<float> FcProj, FcProjMask;    // (N, C)
        public readonly Span<float> Res3;                  // (N, C)

        public BlockActivations(Layer layer, int B, int T, int C, int NH, bool dropout)
        {
            int N = B * T, BNHTT = B * NH * T * T;
            Ln1 = layer.Ln1.AsSpan(0, N * C);
            Ln1Mean = layer.Ln1Mean.AsSpan(0, N);
            Ln1Rstd = layer.Ln1Rstd.AsSpan(0, N);
            Qkv = layer.Qkv.AsSpan(0, N * 3 * C);
            Att = layer.Att.AsSpan(0, BNHTT);
            AttMask = dropout ? layer.AttMask.AsSpan(0, BNHTT) : default;
            Atty = layer.Atty.AsSpan(0, N * C);
            AttProj = layer.AttProj.AsSpan(0, N * C);
            AttProjMask = dropout ? layer.AttProjMask.AsSpan(0, N * C) : default;
            Res2 = layer.Res2.AsSpan(0, N * C);
            Ln2 = layer.Ln2.AsSpan(0, N * C);
            Ln2Mean = layer.Ln2Mean.AsSpan(0, N);
            Ln2Rstd = layer.Ln2Rstd.AsSpan(0, N);
            Fch = layer.Fch.AsSpan(0, N * 4 * C);
            FchAct = layer.FchAct.AsSpan(0, N * 4 * C);
            FcProj = layer.FcProj.AsSpan(0, N * C);
            FcProjMask = dropout ? layer.FcProjMask.AsSpan(0, N * C) : default;
            Res3 = layer.Res3.AsSpan(0, N * C);
        }
    }

    readonly List<ParameterSlice> slices = [];
    readonly Dictionary<string, ParameterSlice> byName = [];
    readonly Layer[] layers;
    readonly int wte, wpe, lmHead, lnEmbW = -1, lnEmbB = -1, lnFW = -1, lnFB = -1;
    readonly InputEmbedding input;
    // Rotary positions: cos and sin of each position's angles (block_size, hs/2); empty for the other encodings.
    readonly float[] ropeCos = [], ropeSin = [];

    // Activations (N = maxB·maxT rows).
    readonly int[] ids, targets;
    readonly float[] encoded, embNorm, embMean, embRstd, lnF, lnFMean, lnFRstd, logits, probs, losses;
    // Backward scratch, reused by every layer.
    readonly float[] dRes, dLn, dQkv, dAtty, dFchAct, dEncoded, dLogits;
    // Dropout: the embedding's mask, and the gradient through a mask.
    readonly float[] embMask, dDropped;

    int lastB, lastT, lastCount;
    bool hasTargets, lastDropout;

    /// <summary>Builds the model with zero parameters (call <see cref="Initialize"/> or load a checkpoint).</summary>
    /// <param name="maxBatch">The largest B a forward will get.</param>
    /// <param name="maxT">The largest T a forward will get; defaults to the block size.</param>
    /// <param name="training">Allocate gradients and the backward pass's buffers; without them <see cref="Backward"/> throws.</param>
    /// <exception cref="ArgumentException">The config is invalid, maxT exceeds the block size, or an activation buffer for
    /// (maxBatch, maxT) would exceed <see cref="Array.MaxLength"/>.</exception>
    public Gpt(GptConfig config, int maxBatch = 1, int maxT = 0, bool training = true)
    {
        config.Validate();
        if (maxT == 0) maxT = config.BlockSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        if (maxT < 1 || maxT > config.BlockSize)
            throw new ArgumentException($"sequence of length {maxT} > block_size {config.BlockSize}");
        Config = config;
        MaxBatch = maxBatch;
        MaxT = maxT;
        Training = training;
        int V = config.VocabSize, C = config.Channels, L = config.Layers;
        bool ln = config.Norm == NormKind.LayerNorm;

        wte = Add("wte.weight", [V, C], ParameterKind.Embedding);
        wpe = config.Positions == PositionKind.Learned ? Add("wpe.weight", [config.BlockSize, C], ParameterKind.Embedding) : -1;
        if (config.EmbeddingNorm && ln)
        {
            // Not a GPT-2 tensor: microgpt-style models with a LayerNorm keep its parameters under this name.
            lnEmbW = Add("ln_emb.weight", [C], ParameterKind.NormWeight);
            if (config.Bias) lnEmbB = Add("ln_emb.bias", [C], ParameterKind.Bias);
        }
        layers = new Layer[L];
        for (int l = 0; l < L; l++)
        {
            var p = layers[l] = new Layer();
            string h = $"h.{l}.";
            if (ln) p.Ln1W = Add(h + "ln_1.weight", [C], ParameterKind.NormWeight);
            if (ln && config.Bias) p.Ln1B = Add(h + "ln_1.bias", [C], ParameterKind.Bias);
            p.QkvW = Add(h + "attn.c_attn.weight", [3 * C, C], ParameterKind.Matrix);
            if (config.Bias) p.QkvB = Add(h + "attn.c_attn.bias", [3 * C], ParameterKind.Bias);
            p.AttProjW = Add(h + "attn.c_proj.weight", [C, C], ParameterKind.Matrix);
            if (config.Bias) p.AttProjB = Add(h + "attn.c_proj.bias", [C], ParameterKind.Bias);
            if (ln) p.Ln2W = Add(h + "ln_2.weight", [C], ParameterKind.NormWeight);
            if (ln && config.Bias) p.Ln2B = Add(h + "ln_2.bias", [C], ParameterKind.Bias);
            p.FcW = Add(h + "mlp.c_fc.weight", [4 * C, C], ParameterKind.Matrix);
            if (config.Bias) p.FcB = Add(h + "mlp.c_fc.bias", [4 * C], ParameterKind.Bias);
            p.FcProjW = Add(h + "mlp.c_proj.weight", [C, 4 * C], ParameterKind.Matrix);
            if (config.Bias) p.FcProjB = Add(h + "mlp.c_proj.bias", [C], ParameterKind.Bias);
        }
        if (config.FinalNorm && ln)
        {
            lnFW = Add("ln_f.weight", [C], ParameterKind.NormWeight);
            if (config.Bias) lnFB = Add("ln_f.bias", [C], ParameterKind.Bias);
        }
        lmHead = config.TiedLmHead ? wte : Add("lm_head.weight", [V, C], ParameterKind.Matrix);

        long total = slices.Sum(s => (long)s.Length);
        if (total > Array.MaxLength) throw new ArgumentException($"the model has {total} parameters, more than one array can hold");
        Parameters = new float[total];
        Gradients = training ? new float[total] : [];
        var positions = config.Positions switch
        {
            PositionKind.Learned => new PositionEmbedding(Parameters.AsMemory(wpe, config.BlockSize * C),
                training ? Gradients.AsMemory(wpe, config.BlockSize * C) : default, config.BlockSize, C),
            PositionKind.Sinusoidal => PositionEmbedding.CreateSinusoidal(config.BlockSize, C),
            _ => null,
        };
        input = new InputEmbedding(
            new TokenEmbedding(Parameters.AsMemory(wte, V * C), training ? Gradients.AsMemory(wte, V * C) : default, V, C), positions);
        if (config.Positions == PositionKind.Rope)
        {
            ropeCos = new float[config.BlockSize * config.HeadSize / 2];
            ropeSin = new float[ropeCos.Length];
            Rotary.Table(ropeCos, ropeSin, config.BlockSize, config.HeadSize);
        }

        // Sizes in long: B·T·4C or B·NH·T·T overflow int long before memory runs out.
        long rows = (long)maxBatch * maxT;
        long largest = Math.Max(rows * Math.Max(4L * C, V), (long)maxBatch * config.Heads * maxT * maxT);
        if (largest > Array.MaxLength)
        {
            throw new ArgumentException($"a batch of B={maxBatch} sequences of T={maxT} tokens needs an activation buffer of {largest} "
                + $"floats, more than one array can hold ({Array.MaxLength}); use a smaller batch or block size");
        }
        int N = (int)rows, NH = config.Heads;
        ids = new int[N];
        targets = new int[N];
        encoded = new float[N * C];
        embNorm = config.EmbeddingNorm ? new float[N * C] : [];
        embMean = config.EmbeddingNorm ? new float[N] : [];
        embRstd = config.EmbeddingNorm ? new float[N] : [];
        foreach (var p in layers)
        {
            p.Ln1 = new float[N * C];
            p.Ln1Mean = new float[N];
            p.Ln1Rstd = new float[N];
            p.Qkv = new float[N * 3 * C];
            p.Atty = new float[N * C];
            p.Att = new float[(long)maxBatch * NH * maxT * maxT];
            p.AttProj = new float[N * C];
            p.Res2 = new float[N * C];
            p.Ln2 = new float[N * C];
            p.Ln2Mean = new float[N];
            p.Ln2Rstd = new float[N];
            p.Fch = new float[N * 4 * C];
            p.FchAct = new float[N * 4 * C];
            p.FcProj = new float[N * C];
            p.Res3 = new float[N * C];
            if (config.Dropout > 0)
            {
                p.AttMask = new float[(long)maxBatch * NH * maxT * maxT];
                p.AttProjMask = new float[N * C];
                p.FcProjMask = new float[N * C];
            }
        }
        embMask = config.Dropout > 0 ? new float[N * C] : [];
        dDropped = config.Dropout > 0 ? new float[N * C] : [];
        lnF = config.FinalNorm ? new float[N * C] : [];
        lnFMean = config.FinalNorm ? new float[N] : [];
        lnFRstd = config.FinalNorm ? new float[N] : [];
        logits = new float[(long)N * V];
        probs = new float[(long)N * V];
        losses = new float[N];
        int dN = training ? N : 0;
        dRes = new float[dN * C];
        dLn = new float[dN * C];
        dQkv = new float[dN * 3 * C];
        dAtty = new float[dN * C];
        dFchAct = new float[dN * 4 * C];
        dEncoded = config.EmbeddingNorm ? new float[dN * C] : [];
        dLogits = new float[(long)dN * V];
        decode = new DecodeBuffers(config);
    }

    /// <summary>The architecture.</summary>
    public GptConfig Config { get; }

    /// <summary>The largest B a forward accepts.</summary>
    public int MaxBatch { get; }

    /// <summary>The largest T a forward accepts (at most the block size).</summary>
    public int MaxT { get; }

    /// <summary>Whether the model has gradients and can run <see cref="Backward"/> (false: built for inference).</summary>
    public bool Training { get; }

    /// <summary>Every parameter, in the order of <see cref="Slices"/>.</summary>
    public float[] Parameters { get; }

    /// <summary>
    /// The gradient of the last <see cref="Backward"/> (accumulated until <see cref="ZeroGrad"/>), laid out as <see cref="Parameters"/>.
    /// </summary>
    public float[] Gradients { get; }

    /// <summary>The named tensors, in buffer order.</summary>
    public IReadOnlyList<ParameterSlice> Slices => slices;

    /// <summary>The slice called <paramref name="name"/> (Hugging Face GPT-2 name).</summary>
    /// <exception cref="KeyNotFoundException">This architecture has no such tensor.</exception>
    public ParameterSlice Slice(string name) =>
        byName.TryGetValue(name, out var s) ? s : throw new KeyNotFoundException($"this model has no tensor '{name}'");

    /// <summary>wte (V, C): the token embeddings.</summary>
    public Span<float> TokenEmbeddings => Parameters.AsSpan(wte, Config.VocabSize * Config.Channels);

    /// <summary>
    /// The table (block_size, C) added to <c>wte[tok]</c>: the learned wpe, a slice of <see cref="Parameters"/>; the fixed
    /// sinusoids (not a parameter); empty for rotary positions and none.
    /// </summary>
    public Span<float> PositionEmbeddings => input.Positions is { } p ? p.Weight.Span : [];

    /// <summary>The logits (B, T, V) of the last <see cref="Forward"/>.</summary>
    public ReadOnlySpan<float> Logits => logits.AsSpan(0, lastB * lastT * Config.VocabSize);

    /// <summary>The number of predicted (non-ignored) positions in the last <see cref="Forward"/> with targets.</summary>
    public int TargetCount => lastCount;

    /// <summary>
    /// Draws every matrix and embedding from N(0, InitStd) (residual projections from N(0, InitStd/√(2L))
    /// when <see cref="GptConfig.ScaleResidualInit"/>), sets norm weights to 1 and biases to 0, in slice order.
    /// </summary>
    public void Initialize(Rng rng)
    {
        double residualStd = Config.InitStd / Math.Sqrt(2.0 * Math.Max(1, Config.Layers));
        foreach (var s in slices)
        {
            var span = Parameters.AsSpan(s.Offset, s.Length);
            switch (s.Kind)
            {
                case ParameterKind.NormWeight: span.Fill(1f); break;
                case ParameterKind.Bias: span.Clear(); break;
                default:
                    bool residual = Config.ScaleResidualInit && s.Name.EndsWith("c_proj.weight", StringComparison.Ordinal);
                    rng.FillGaussian(span, 0, residual ? residualStd : Config.InitStd);
                    break;
            }
        }
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Clears);
        Array.Clear(Gradients);
    }

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> (B, T) and, when <paramref name="targetIds"/> (B, T) is
    /// given, returns the mean cross-entropy over the positions whose target is not negative
    /// (<see cref="CrossEntropy.Ignore"/> marks padding); otherwise returns NaN and only the logits are computed.
    /// Dropout (when the config has it) applies only when <paramref name="dropout"/> is given, as in training:
    /// one 64-bit draw from it seeds every mask of this pass (nanoGPT's sites: the input embedding, the
    /// attention weights, and each residual branch before it is added).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// B or T too large (<c>sequence of length 300 > block_size 256</c>), or an id outside [0, V).
    /// </exception>
    public float Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targetIds, int B, int T, Rng? dropout = null)
    {
        int C = Config.Channels, V = Config.VocabSize, NH = Config.Heads, N = B * T;
        if (T > Config.BlockSize)
            throw new ArgumentOutOfRangeException(nameof(T), T, $"sequence of length {T} > block_size {Config.BlockSize}");
        if (B < 1 || T < 1 || B > MaxBatch || T > MaxT)
            throw new ArgumentOutOfRangeException(nameof(B), $"batch {B} × {T} does not fit this model's buffers ({MaxBatch} × {MaxT})");
        if (tokens.Length != N) throw new ArgumentException($"tokens has {tokens.Length} ids, expected B·T = {N}", nameof(tokens));
        hasTargets = !targetIds.IsEmpty;
        if (hasTargets)
        {
            if (targetIds.Length != N)
                throw new ArgumentException($"targets has {targetIds.Length} ids, expected B·T = {N}", nameof(targetIds));
            for (int i = 0; i < N; i++)
            {
                if (targetIds[i] >= V)
                {
                    throw new ArgumentOutOfRangeException(nameof(targetIds), targetIds[i],
                        $"target id {targetIds[i]} at batch row {i / T}, position {i % T} is outside [0, {V})");
                }
            }
            targetIds.CopyTo(targets);
        }
        tokens.CopyTo(ids);
        lastB = B;
        lastT = T;
        float pDrop = Config.Dropout;
        lastDropout = pDrop > 0 && dropout is not null;
        ulong seed = lastDropout ? dropout!.NextUInt64() : 0;
        int site = 0;
        ulong NextSeed() => seed + (ulong)site++ * 0xD1B54A32D192ED03UL;

        // The pass's views (llm.c's pointers into its one activation block): the first N = B·T rows of each buffer.
        var encoded = this.encoded.AsSpan(0, N * C);          // (N, C) wte[ids] (+ wpe[pos])
        var logits = this.logits.AsSpan(0, N * V);            // (N, V)
        var probs = this.probs.AsSpan(0, N * V);              // (N, V)
        var losses = this.losses.AsSpan(0, N);                // (N)
        var embMask = lastDropout ? this.embMask.AsSpan(0, N * C) : default;

        input.Forward(encoded, tokens, B, T);
        float[] x = this.encoded; // the residual stream (N, C): each block reads it and writes the next one
        if (Config.EmbeddingNorm)
        {
            NormForward(embNorm.AsSpan(0, N * C), embMean.AsSpan(0, N), embRstd.AsSpan(0, N), encoded,
                View(Parameters, lnEmbW, C), View(Parameters, lnEmbB, C));
            x = embNorm;
        }
        if (lastDropout) Dropout.Forward(x.AsSpan(0, N * C), embMask, x.AsSpan(0, N * C), pDrop, NextSeed());
        foreach (var layer in layers)
        {
            var w = new BlockTensors(layer, Parameters, C);
            var a = new BlockActivations(layer, B, T, C, NH, lastDropout);

            NormForward(a.Ln1, a.Ln1Mean, a.Ln1Rstd, x.AsSpan(0, N * C), w.Ln1W, w.Ln1B);
            MatMul.Forward(a.Qkv, a.Ln1, w.QkvW, w.QkvB, N, C, 3 * C);
            if (ropeCos.Length > 0) Rotary.Forward(a.Qkv, ropeCos, ropeSin, B, T, C, NH); // Qkv keeps the rotated q, k for backward
            if (lastDropout) Dropout.FillMask(a.AttMask, pDrop, NextSeed());
            Attention.Forward(a.Atty, a.Att, a.Qkv, B, T, C, NH, a.AttMask);
            MatMul.Forward(a.AttProj, a.Atty, w.AttProjW, w.AttProjB, N, C, C);
            if (lastDropout) Dropout.Forward(a.AttProj, a.AttProjMask, a.AttProj, pDrop, NextSeed());
            Residual(layer.Res2, x, layer.AttProj, N * C);

            NormForward(a.Ln2, a.Ln2Mean, a.Ln2Rstd, a.Res2, w.Ln2W, w.Ln2B);
            MatMul.Forward(a.Fch, a.Ln2, w.FcW, w.FcB, N, C, 4 * C);
            ActivationForward(a.FchAct, a.Fch);
            MatMul.Forward(a.FcProj, a.FchAct, w.FcProjW, w.FcProjB, N, 4 * C, C);
            if (lastDropout) Dropout.Forward(a.FcProj, a.FcProjMask, a.FcProj, pDrop, NextSeed());
            Residual(layer.Res3, layer.Res2, layer.FcProj, N * C);
            x = layer.Res3;
        }
        if (Config.FinalNorm)
        {
            NormForward(lnF.AsSpan(0, N * C), lnFMean.AsSpan(0, N), lnFRstd.AsSpan(0, N), x.AsSpan(0, N * C),
                View(Parameters, lnFW, C), View(Parameters, lnFB, C));
            x = lnF;
        }
        MatMul.Forward(logits, x.AsSpan(0, N * C), View(Parameters, lmHead, V * C), [], N, C, V);
        var (mean, count) = CrossEntropy.Forward(probs, losses, logits, hasTargets ? targets.AsSpan(0, N) : [], N, V);
        lastCount = count;
        return mean;
    }

    /// <summary>
    /// Adds the gradient of the last <see cref="Forward"/>'s mean loss with respect to every parameter
    /// into <see cref="Gradients"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model was built for inference, or the last forward had no targets, or none that
    /// counted.</exception>
    public void Backward()
    {
        if (!Training) throw new InvalidOperationException("this model was built for inference (training: false); it has no gradients");
        if (!hasTargets || lastCount == 0) throw new InvalidOperationException("Backward needs a Forward with at least one target");
        int B = lastB, T = lastT, C = Config.Channels, V = Config.VocabSize, NH = Config.Heads, N = B * T;

        // The pass's views. Gradients of activations: one residual-stream buffer that every block adds into,
        // and scratch that each block overwrites.
        var dlogits = dLogits.AsSpan(0, N * V);        // (N, V)
        var dres = dRes.AsSpan(0, N * C);              // (N, C) the residual stream's gradient
        var dln = dLn.AsSpan(0, N * C);                // (N, C) a norm's output
        var datty = dAtty.AsSpan(0, N * C);            // (N, C) attention's output
        var dqkv = dQkv.AsSpan(0, N * 3 * C);          // (N, 3C)
        var dfch = dFchAct.AsSpan(0, N * 4 * C);       // (N, 4C) the MLP's hidden layer, after and then before the activation
        var lmHeadW = View(Parameters, lmHead, V * C); // (V, C)
        var dlmHeadW = View(Gradients, lmHead, V * C); // (V, C)
        float[] embedded = Config.EmbeddingNorm ? embNorm : encoded; // the first block's input

        CrossEntropy.Backward(dlogits, probs.AsSpan(0, N * V), targets.AsSpan(0, N), 1f / lastCount, N, V);
        dres.Clear();
        var last = (layers.Length > 0 ? layers[^1].Res3 : embedded).AsSpan(0, N * C);
        if (Config.FinalNorm)
        {
            MatMul.Backward(dln, dlmHeadW, [], dlogits, lnF.AsSpan(0, N * C), lmHeadW, N, C, V, accumulateInput: false);
            NormBackward(dres, View(Gradients, lnFW, C), View(Gradients, lnFB, C), dln, last, View(Parameters, lnFW, C),
                lnFMean.AsSpan(0, N), lnFRstd.AsSpan(0, N));
        }
        else
        {
            MatMul.Backward(dres, dlmHeadW, [], dlogits, last, lmHeadW, N, C, V);
        }

        for (int l = layers.Length - 1; l >= 0; l--)
        {
            var layer = layers[l];
            var w = new BlockTensors(layer, Parameters, C);
            var g = new BlockTensors(layer, Gradients, C);
            var a = new BlockActivations(layer, B, T, C, NH, lastDropout);
            var x = (l > 0 ? layers[l - 1].Res3 : embedded).AsSpan(0, N * C); // this block's input (N, C)

            // Res3 = Res2 + FcProj: dres flows to both unchanged, and the MLP adds its part into dres.
            var dfcproj = ThroughMask(dres, a.FcProjMask);
            MatMul.Backward(dfch, g.FcProjW, g.FcProjB, dfcproj, a.FchAct, w.FcProjW, N, 4 * C, C, accumulateInput: false);
            // The gradient before the activation replaces the one after it, in place: no second 4C-wide buffer to stream through.
            ActivationBackward(dfch, a.Fch);
            MatMul.Backward(dln, g.FcW, g.FcB, dfch, a.Ln2, w.FcW, N, C, 4 * C, accumulateInput: false);
            NormBackward(dres, g.Ln2W, g.Ln2B, dln, a.Res2, w.Ln2W, a.Ln2Mean, a.Ln2Rstd);

            // Res2 = x + AttProj: likewise for the attention branch.
            var dattproj = ThroughMask(dres, a.AttProjMask);
            MatMul.Backward(datty, g.AttProjW, g.AttProjB, dattproj, a.Atty, w.AttProjW, N, C, C, accumulateInput: false);
            Attention.Backward(dqkv, datty, a.Qkv, a.Att, B, T, C, NH, a.AttMask);
            if (ropeCos.Length > 0) Rotary.Backward(dqkv, ropeCos, ropeSin, B, T, C, NH);
            MatMul.Backward(dln, g.QkvW, g.QkvB, dqkv, a.Ln1, w.QkvW, N, C, 3 * C, accumulateInput: false);
            NormBackward(dres, g.Ln1W, g.Ln1B, dln, x, w.Ln1W, a.Ln1Mean, a.Ln1Rstd);
        }

        dres = ThroughMask(dres, lastDropout ? embMask.AsSpan(0, N * C) : default);
        if (Config.EmbeddingNorm)
        {
            var denc = dEncoded.AsSpan(0, N * C);
            denc.Clear();
            NormBackward(denc, View(Gradients, lnEmbW, C), View(Gradients, lnEmbB, C), dres, encoded.AsSpan(0, N * C),
                View(Parameters, lnEmbW, C), embMean.AsSpan(0, N), embRstd.AsSpan(0, N));
            input.Backward(denc, ids.AsSpan(0, N), B, T);
        }
        else
        {
            input.Backward(dres, ids.AsSpan(0, N), B, T);
        }
    }

    /// <summary>The gradient before a dropout whose output gradient is <paramref name="dOut"/> (itself when the pass had none).</summary>
    Span<float> ThroughMask(Span<float> dOut, ReadOnlySpan<float> mask)
    {
        if (mask.IsEmpty) return dOut;
        var d = dDropped.AsSpan(0, dOut.Length);
        TensorPrimitives.Multiply(dOut, mask, d);
        return d;
    }

    /// <summary>
    /// The residual sum <c>output = a + b</c> over the first <paramref name="n"/> floats, split across threads in
    /// row order like the kernels before and after it, so each thread adds rows that are in its own cache.
    /// </summary>
    static void Residual(float[] output, float[] a, float[] b, int n)
    {
        const int Chunk = 16384;
        Threads.For((n + Chunk - 1) / Chunk, n, unit =>
        {
            int start = unit * Chunk, length = Math.Min(Chunk, n - start);
            TensorPrimitives.Add(a.AsSpan(start, length), b.AsSpan(start, length), output.AsSpan(start, length));
        });
    }

    int Add(string name, int[] shape, ParameterKind kind)
    {
        int offset = slices.Count == 0 ? 0 : slices[^1].Offset + slices[^1].Length;
        var slice = new ParameterSlice(name, offset, shape, kind);
        slices.Add(slice);
        byName.Add(name, slice);
        return offset;
    }

    /// <summary>The <paramref name="length"/> floats of <paramref name="buffer"/> at <paramref name="offset"/>; empty for −1.</summary>
    static Span<float> View(float[] buffer, int offset, int length) => offset < 0 ? [] : buffer.AsSpan(offset, length);

    /// <summary>The block's norm over N = <paramref name="rstd"/>.Length rows: LayerNorm, or RMSNorm (which has no weights).</summary>
    void NormForward(Span<float> output, Span<float> mean, Span<float> rstd, ReadOnlySpan<float> input,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
    {
        int N = rstd.Length, C = Config.Channels;
        if (Config.Norm == NormKind.LayerNorm) LayerNorm.Forward(output, mean, rstd, input, weight, bias, N, C, Config.NormEpsilon);
        else RmsNorm.Forward(output, rstd, input, N, C, Config.NormEpsilon);
    }

    void NormBackward(Span<float> dInput, Span<float> dWeight, Span<float> dBias, ReadOnlySpan<float> dOut, ReadOnlySpan<float> input,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd)
    {
        int N = rstd.Length, C = Config.Channels;
        if (Config.Norm == NormKind.LayerNorm) LayerNorm.Backward(dInput, dWeight, dBias, dOut, input, weight, mean, rstd, N, C);
        else RmsNorm.Backward(dInput, dOut, input, rstd, N, C);
    }

    void ActivationForward(Span<float> output, ReadOnlySpan<float> input)
    {
        if (Config.Activation == Activation.Gelu) Gelu.Forward(output, input);
        else Relu.Forward(output, input);
    }

    /// <summary>Overwrites <paramref name="dInOut"/>, the gradient after the activation, with the one before it.</summary>
    void ActivationBackward(Span<float> dInOut, ReadOnlySpan<float> input)
    {
        if (Config.Activation == Activation.Gelu) Gelu.Backward(dInOut, input, dInOut, accumulate: false);
        else Relu.Backward(dInOut, input, dInOut, accumulate: false);
    }
}
