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
    sealed class Layer
    {
        public int Ln1W = -1, Ln1B = -1, AttnW, AttnB = -1, ProjW, ProjB = -1, Ln2W = -1, Ln2B = -1, FcW, FcB = -1, FcProjW, FcProjB = -1;

        // Activations, sized for (maxB, maxT); a forward on (B, T) uses the first B·T rows.
        public float[] Ln1 = [], Ln1Mean = [], Ln1Rstd = [], Qkv = [], Atty = [], Att = [], AttProj = [], Res2 = [];
        public float[] Ln2 = [], Ln2Mean = [], Ln2Rstd = [], Fch = [], FchAct = [], FcProj = [], Res3 = [];

        // Dropout masks (only when the config has dropout): attention weights, and the two residual branches.
        public float[] AttMask = [], AttProjMask = [], FcProjMask = [];
    }

    readonly List<ParameterSlice> slices = [];
    readonly Dictionary<string, ParameterSlice> byName = [];
    readonly Layer[] layers;
    readonly int wte, wpe, lmHead, lnEmbW = -1, lnEmbB = -1, lnFW = -1, lnFB = -1;
    readonly InputEmbedding input;

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
    /// <exception cref="ArgumentException">The config is invalid, maxT exceeds the block size, or an activation buffer for (maxBatch, maxT) would exceed <see cref="Array.MaxLength"/>.</exception>
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
        wpe = Add("wpe.weight", [config.BlockSize, C], ParameterKind.Embedding);
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
            p.AttnW = Add(h + "attn.c_attn.weight", [3 * C, C], ParameterKind.Matrix);
            if (config.Bias) p.AttnB = Add(h + "attn.c_attn.bias", [3 * C], ParameterKind.Bias);
            p.ProjW = Add(h + "attn.c_proj.weight", [C, C], ParameterKind.Matrix);
            if (config.Bias) p.ProjB = Add(h + "attn.c_proj.bias", [C], ParameterKind.Bias);
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
        input = new InputEmbedding(
            new TokenEmbedding(Parameters.AsMemory(wte, V * C), training ? Gradients.AsMemory(wte, V * C) : default, V, C),
            new PositionEmbedding(Parameters.AsMemory(wpe, config.BlockSize * C), training ? Gradients.AsMemory(wpe, config.BlockSize * C) : default, config.BlockSize, C));

        // Sizes in long: B·T·4C or B·NH·T·T overflow int long before memory runs out.
        long rows = (long)maxBatch * maxT;
        long largest = Math.Max(rows * Math.Max(4L * C, V), (long)maxBatch * config.Heads * maxT * maxT);
        if (largest > Array.MaxLength)
            throw new ArgumentException($"a batch of B={maxBatch} sequences of T={maxT} tokens needs an activation buffer of {largest} floats, more than one array can hold ({Array.MaxLength}); use a smaller batch or block size");
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

    /// <summary>The gradient of the last <see cref="Backward"/> (accumulated until <see cref="ZeroGrad"/>), laid out as <see cref="Parameters"/>.</summary>
    public float[] Gradients { get; }

    /// <summary>The named tensors, in buffer order.</summary>
    public IReadOnlyList<ParameterSlice> Slices => slices;

    /// <summary>The slice called <paramref name="name"/> (Hugging Face GPT-2 name).</summary>
    /// <exception cref="KeyNotFoundException">This architecture has no such tensor.</exception>
    public ParameterSlice Slice(string name) =>
        byName.TryGetValue(name, out var s) ? s : throw new KeyNotFoundException($"this model has no tensor '{name}'");

    /// <summary>wte (V, C): the token embeddings.</summary>
    public Span<float> TokenEmbeddings => Parameters.AsSpan(wte, Config.VocabSize * Config.Channels);

    /// <summary>wpe (block_size, C): the position embeddings.</summary>
    public Span<float> PositionEmbeddings => Parameters.AsSpan(wpe, Config.BlockSize * Config.Channels);

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
    public void ZeroGrad() => Array.Clear(Gradients);

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> (B, T) and, when <paramref name="targetIds"/> (B, T) is
    /// given, returns the mean cross-entropy over the positions whose target is not negative
    /// (<see cref="CrossEntropy.Ignore"/> marks padding); otherwise returns NaN and only the logits are computed.
    /// Dropout (when the config has it) applies only when <paramref name="dropout"/> is given, as in training:
    /// one 64-bit draw from it seeds every mask of this pass (nanoGPT's sites: the input embedding, the
    /// attention weights, and each residual branch before it is added).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">B or T too large (<c>sequence of length 300 > block_size 256</c>), or an id outside [0, V).</exception>
    public float Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targetIds, int B, int T, Rng? dropout = null)
    {
        int C = Config.Channels, V = Config.VocabSize, NH = Config.Heads, N = B * T;
        if (T > Config.BlockSize) throw new ArgumentOutOfRangeException(nameof(T), T, $"sequence of length {T} > block_size {Config.BlockSize}");
        if (B < 1 || T < 1 || B > MaxBatch || T > MaxT)
            throw new ArgumentOutOfRangeException(nameof(B), $"batch {B} × {T} does not fit this model's buffers ({MaxBatch} × {MaxT})");
        if (tokens.Length != N) throw new ArgumentException($"tokens has {tokens.Length} ids, expected B·T = {N}", nameof(tokens));
        hasTargets = !targetIds.IsEmpty;
        if (hasTargets)
        {
            if (targetIds.Length != N) throw new ArgumentException($"targets has {targetIds.Length} ids, expected B·T = {N}", nameof(targetIds));
            for (int i = 0; i < N; i++)
            {
                if (targetIds[i] >= V)
                    throw new ArgumentOutOfRangeException(nameof(targetIds), targetIds[i], $"target id {targetIds[i]} at batch row {i / T}, position {i % T} is outside [0, {V})");
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

        input.Forward(encoded.AsSpan(0, N * C), tokens, B, T);
        float[] x = encoded;
        if (Config.EmbeddingNorm)
        {
            NormForward(embNorm, embMean, embRstd, encoded, lnEmbW, lnEmbB, N);
            x = embNorm;
        }
        if (lastDropout) Dropout.Forward(x.AsSpan(0, N * C), embMask.AsSpan(0, N * C), x.AsSpan(0, N * C), pDrop, NextSeed());
        foreach (var p in layers)
        {
            NormForward(p.Ln1, p.Ln1Mean, p.Ln1Rstd, x, p.Ln1W, p.Ln1B, N);
            MatMul.Forward(p.Qkv.AsSpan(0, N * 3 * C), p.Ln1.AsSpan(0, N * C), W(p.AttnW, 3 * C * C), W(p.AttnB, 3 * C), N, C, 3 * C);
            if (lastDropout) Dropout.FillMask(p.AttMask.AsSpan(0, B * NH * T * T), pDrop, NextSeed());
            Attention.Forward(p.Atty.AsSpan(0, N * C), p.Att.AsSpan(0, B * NH * T * T), p.Qkv.AsSpan(0, N * 3 * C), B, T, C, NH,
                lastDropout ? p.AttMask.AsSpan(0, B * NH * T * T) : default);
            MatMul.Forward(p.AttProj.AsSpan(0, N * C), p.Atty.AsSpan(0, N * C), W(p.ProjW, C * C), W(p.ProjB, C), N, C, C);
            if (lastDropout) Dropout.Forward(p.AttProj.AsSpan(0, N * C), p.AttProjMask.AsSpan(0, N * C), p.AttProj.AsSpan(0, N * C), pDrop, NextSeed());
            Residual(p.Res2, x, p.AttProj, N * C);
            NormForward(p.Ln2, p.Ln2Mean, p.Ln2Rstd, p.Res2, p.Ln2W, p.Ln2B, N);
            MatMul.Forward(p.Fch.AsSpan(0, N * 4 * C), p.Ln2.AsSpan(0, N * C), W(p.FcW, 4 * C * C), W(p.FcB, 4 * C), N, C, 4 * C);
            if (Config.Activation == Activation.Gelu) Gelu.Forward(p.FchAct.AsSpan(0, N * 4 * C), p.Fch.AsSpan(0, N * 4 * C));
            else Relu.Forward(p.FchAct.AsSpan(0, N * 4 * C), p.Fch.AsSpan(0, N * 4 * C));
            MatMul.Forward(p.FcProj.AsSpan(0, N * C), p.FchAct.AsSpan(0, N * 4 * C), W(p.FcProjW, C * 4 * C), W(p.FcProjB, C), N, 4 * C, C);
            if (lastDropout) Dropout.Forward(p.FcProj.AsSpan(0, N * C), p.FcProjMask.AsSpan(0, N * C), p.FcProj.AsSpan(0, N * C), pDrop, NextSeed());
            Residual(p.Res3, p.Res2, p.FcProj, N * C);
            x = p.Res3;
        }
        if (Config.FinalNorm)
        {
            NormForward(lnF, lnFMean, lnFRstd, x, lnFW, lnFB, N);
            x = lnF;
        }
        MatMul.Forward(logits.AsSpan(0, N * V), x.AsSpan(0, N * C), W(lmHead, V * C), [], N, C, V);
        var (mean, count) = CrossEntropy.Forward(probs.AsSpan(0, N * V), losses.AsSpan(0, N), logits.AsSpan(0, N * V),
            hasTargets ? targets.AsSpan(0, N) : [], N, V);
        lastCount = count;
        return mean;
    }

    /// <summary>
    /// Adds the gradient of the last <see cref="Forward"/>'s mean loss with respect to every parameter
    /// into <see cref="Gradients"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model was built for inference, or the last forward had no targets, or none that counted.</exception>
    public void Backward()
    {
        if (!Training) throw new InvalidOperationException("this model was built for inference (training: false); it has no gradients");
        if (!hasTargets || lastCount == 0) throw new InvalidOperationException("Backward needs a Forward with at least one target");
        int B = lastB, T = lastT, C = Config.Channels, V = Config.VocabSize, NH = Config.Heads, N = B * T;

        CrossEntropy.Backward(dLogits.AsSpan(0, N * V), probs.AsSpan(0, N * V), targets.AsSpan(0, N), 1f / lastCount, N, V);
        var dres = dRes.AsSpan(0, N * C);
        dres.Clear();
        float[] last = layers.Length > 0 ? layers[^1].Res3 : Config.EmbeddingNorm ? embNorm : encoded;
        if (Config.FinalNorm)
        {
            var dln = dLn.AsSpan(0, N * C);
            MatMul.Backward(dln, G(lmHead, V * C), [], dLogits.AsSpan(0, N * V), lnF.AsSpan(0, N * C), W(lmHead, V * C), N, C, V, accumulateInput: false);
            NormBackward(dres, lnFW, lnFB, dln, last, lnFMean, lnFRstd, N);
        }
        else
        {
            MatMul.Backward(dres, G(lmHead, V * C), [], dLogits.AsSpan(0, N * V), last.AsSpan(0, N * C), W(lmHead, V * C), N, C, V);
        }

        for (int l = layers.Length - 1; l >= 0; l--)
        {
            var p = layers[l];
            float[] x = l > 0 ? layers[l - 1].Res3 : Config.EmbeddingNorm ? embNorm : encoded;
            // Res3 = Res2 + FcProj: dres flows to both unchanged, and the MLP adds its part into dres.
            var dAct = dFchAct.AsSpan(0, N * 4 * C);
            MatMul.Backward(dAct, G(p.FcProjW, C * 4 * C), G(p.FcProjB, C), ThroughMask(dres, p.FcProjMask, N * C), p.FchAct.AsSpan(0, N * 4 * C), W(p.FcProjW, C * 4 * C), N, 4 * C, C, accumulateInput: false);
            // The gradient before the activation replaces the one after it, in place: no second 4C-wide buffer to stream through.
            if (Config.Activation == Activation.Gelu) Gelu.Backward(dAct, p.Fch.AsSpan(0, N * 4 * C), dAct, accumulate: false);
            else Relu.Backward(dAct, p.Fch.AsSpan(0, N * 4 * C), dAct, accumulate: false);
            var dln = dLn.AsSpan(0, N * C);
            MatMul.Backward(dln, G(p.FcW, 4 * C * C), G(p.FcB, 4 * C), dAct, p.Ln2.AsSpan(0, N * C), W(p.FcW, 4 * C * C), N, C, 4 * C, accumulateInput: false);
            NormBackward(dres, p.Ln2W, p.Ln2B, dln, p.Res2, p.Ln2Mean, p.Ln2Rstd, N);

            // Res2 = x + AttProj: likewise for the attention branch.
            var datty = dAtty.AsSpan(0, N * C);
            MatMul.Backward(datty, G(p.ProjW, C * C), G(p.ProjB, C), ThroughMask(dres, p.AttProjMask, N * C), p.Atty.AsSpan(0, N * C), W(p.ProjW, C * C), N, C, C, accumulateInput: false);
            var dqkv = dQkv.AsSpan(0, N * 3 * C);
            Attention.Backward(dqkv, datty, p.Qkv.AsSpan(0, N * 3 * C), p.Att.AsSpan(0, B * NH * T * T), B, T, C, NH,
                lastDropout ? p.AttMask.AsSpan(0, B * NH * T * T) : default);
            MatMul.Backward(dln, G(p.AttnW, 3 * C * C), G(p.AttnB, 3 * C), dqkv, p.Ln1.AsSpan(0, N * C), W(p.AttnW, 3 * C * C), N, C, 3 * C, accumulateInput: false);
            NormBackward(dres, p.Ln1W, p.Ln1B, dln, x, p.Ln1Mean, p.Ln1Rstd, N);
        }

        dres = ThroughMask(dres, embMask, N * C);
        if (Config.EmbeddingNorm)
        {
            var denc = dEncoded.AsSpan(0, N * C);
            denc.Clear();
            NormBackward(denc, lnEmbW, lnEmbB, dres, encoded, embMean, embRstd, N);
            input.Backward(denc, ids.AsSpan(0, N), B, T);
        }
        else
        {
            input.Backward(dres, ids.AsSpan(0, N), B, T);
        }
    }

    /// <summary>The gradient before a dropout whose output gradient is <paramref name="dOut"/> (itself when dropout was off).</summary>
    Span<float> ThroughMask(Span<float> dOut, float[] mask, int length)
    {
        if (!lastDropout) return dOut;
        var d = dDropped.AsSpan(0, length);
        System.Numerics.Tensors.TensorPrimitives.Multiply(dOut, mask.AsSpan(0, length), d);
        return d;
    }

    /// <summary>
    /// The residual sum <c>output = a + b</c> over the first <paramref name="n"/> floats, split across threads in
    /// row order like the kernels before and after it, so each thread adds rows that are in its own cache.
    /// </summary>
    static void Residual(float[] output, float[] a, float[] b, int n)
    {
        const int Chunk = 16384;
        Work.For((n + Chunk - 1) / Chunk, n, unit =>
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

    Span<float> W(int offset, int length) => offset < 0 ? [] : Parameters.AsSpan(offset, length);

    Span<float> G(int offset, int length) => offset < 0 ? [] : Gradients.AsSpan(offset, length);

    void NormForward(float[] output, float[] mean, float[] rstd, float[] inp, int weight, int bias, int N)
    {
        int C = Config.Channels;
        if (Config.Norm == NormKind.LayerNorm)
            LayerNorm.Forward(output.AsSpan(0, N * C), mean.AsSpan(0, N), rstd.AsSpan(0, N), inp.AsSpan(0, N * C), W(weight, C), W(bias, C), N, C, Config.NormEpsilon);
        else
            RmsNorm.Forward(output.AsSpan(0, N * C), rstd.AsSpan(0, N), inp.AsSpan(0, N * C), N, C, Config.NormEpsilon);
    }

    void NormBackward(Span<float> dInput, int weight, int bias, ReadOnlySpan<float> dOut, float[] inp, float[] mean, float[] rstd, int N)
    {
        int C = Config.Channels;
        if (Config.Norm == NormKind.LayerNorm)
            LayerNorm.Backward(dInput, G(weight, C), G(bias, C), dOut, inp.AsSpan(0, N * C), W(weight, C), mean.AsSpan(0, N), rstd.AsSpan(0, N), N, C);
        else
            RmsNorm.Backward(dInput, dOut, inp.AsSpan(0, N * C), rstd.AsSpan(0, N), N, C);
    }
}
