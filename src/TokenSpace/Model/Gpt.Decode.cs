using System.Numerics.Tensors;
using TokenSpace.Tensors;

namespace TokenSpace.Model;

/// <summary>
/// The keys and values every layer computed for the positions decoded so far, for one sequence: decoding a
/// token then costs one position's work instead of the whole context's (see <see cref="Gpt.Decode"/>). It also
/// holds the model's matrices packed for one-row products, as they were when it was made: after changing the
/// weights, start a new cache.
/// </summary>
public sealed class KvCache
{
    internal KvCache(GptConfig config, float[][] packed)
    {
        int size = config.BlockSize * config.Channels;
        Keys = [.. Enumerable.Range(0, config.Layers).Select(_ => new float[size])];
        Values = [.. Enumerable.Range(0, config.Layers).Select(_ => new float[size])];
        Capacity = config.BlockSize;
        Packed = packed;
    }

    /// <summary>Per layer its c_attn, attn.c_proj, c_fc and mlp.c_proj weights, then lm_head, packed by
    /// <see cref="MatMul.Pack"/>.</summary>
    internal float[][] Packed { get; }

    /// <summary>Per layer (block_size, C): the keys of positions 0 … Length − 1.</summary>
    internal float[][] Keys { get; }

    /// <summary>Per layer (block_size, C): the values.</summary>
    internal float[][] Values { get; }

    /// <summary>Positions decoded so far: the position the next token gets.</summary>
    public int Length { get; internal set; }

    /// <summary>The most positions it holds: the model's block size.</summary>
    public int Capacity { get; }

    /// <summary>Forgets every position (the next token is position 0 again).</summary>
    public void Clear() => Length = 0;
}

public sealed partial class Gpt
{
    /// <summary>One position's activations, reused by every <see cref="Decode"/>.</summary>
    sealed class DecodeBuffers(GptConfig c)
    {
        public readonly float[] X = new float[c.Channels], Ln = new float[c.Channels], Qkv = new float[3 * c.Channels],
            Atty = new float[c.Channels];
        public readonly float[] Branch = new float[c.Channels], Fch = new float[4 * c.Channels], FchAct = new float[4 * c.Channels];
        public readonly float[] Logits = new float[c.VocabSize], Scores = new float[c.Heads * c.BlockSize], Mean = new float[1],
            Rstd = new float[1];
    }

    readonly DecodeBuffers decode;

    /// <summary>An empty key/value cache for <see cref="Decode"/>, with the weights as they are now.</summary>
    public KvCache NewCache()
    {
        int C = Config.Channels;
        var packed = new List<float[]>();
        foreach (var layer in layers)
        {
            var p = new BlockTensors(layer, Parameters, C);
            packed.Add(MatMul.Pack(p.QkvW, C, 3 * C));
            packed.Add(MatMul.Pack(p.AttProjW, C, C));
            packed.Add(MatMul.Pack(p.FcW, C, 4 * C));
            packed.Add(MatMul.Pack(p.FcProjW, 4 * C, C));
        }
        packed.Add(MatMul.Pack(View(Parameters, lmHead, Config.VocabSize * C), C, Config.VocabSize));
        return new KvCache(Config, [.. packed]);
    }

    /// <summary>
    /// Runs <paramref name="token"/> at position <c>cache.Length</c> of the sequence <paramref name="cache"/> holds,
    /// appends its keys and values, and returns its logits (V) — the same numbers, bit for bit, as the last row of a
    /// <see cref="Forward"/> over the whole sequence, at the cost of one position. The span is valid until the next call.
    /// </summary>
    /// <example><code>var cache = model.NewCache(); foreach (int id in prompt) logits = model.Decode(cache, id);</code></example>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside [0, V), or the cache is full (block_size positions).</exception>
    public ReadOnlySpan<float> Decode(KvCache cache, int token)
    {
        int C = Config.Channels, V = Config.VocabSize, NH = Config.Heads, t = cache.Length;
        if ((uint)token >= (uint)V) throw new ArgumentOutOfRangeException(nameof(token), token, $"token id {token} is outside [0, {V})");
        if (t >= Config.BlockSize) throw new ArgumentOutOfRangeException(nameof(cache),
            $"sequence of length {t + 1} > block_size {Config.BlockSize}");
        var d = decode;
        var positions = PositionEmbeddings;
        if (positions.IsEmpty) TokenEmbeddings.Slice(token * C, C).CopyTo(d.X);
        else TensorPrimitives.Add(TokenEmbeddings.Slice(token * C, C), positions.Slice(t * C, C), d.X);
        if (Config.EmbeddingNorm)
        {
            NormRow(d.Ln, d.X, View(Parameters, lnEmbW, C), View(Parameters, lnEmbB, C));
            d.Ln.CopyTo(d.X);
        }
        for (int l = 0; l < layers.Length; l++)
        {
            var p = new BlockTensors(layers[l], Parameters, C);
            NormRow(d.Ln, d.X, p.Ln1W, p.Ln1B);
            var w = cache.Packed.AsSpan(4 * l, 4);
            MatMul.ForwardPacked(d.Qkv, d.Ln, w[0], p.QkvB, 1, C, 3 * C);
            if (ropeCos.Length > 0) Rotary.Forward(d.Qkv, ropeCos, ropeSin, 1, 1, C, NH, start: t);
            d.Qkv.AsSpan(C, C).CopyTo(cache.Keys[l].AsSpan(t * C, C));
            d.Qkv.AsSpan(2 * C, C).CopyTo(cache.Values[l].AsSpan(t * C, C));
            Attention.Decode(d.Atty, d.Scores.AsSpan(0, NH * (t + 1)), d.Qkv.AsSpan(0, C), cache.Keys[l].AsSpan(0, (t + 1) * C),
                cache.Values[l].AsSpan(0, (t + 1) * C), t + 1, C, NH);
            MatMul.ForwardPacked(d.Branch, d.Atty, w[1], p.AttProjB, 1, C, C);
            TensorPrimitives.Add(d.X, d.Branch, d.X);
            NormRow(d.Ln, d.X, p.Ln2W, p.Ln2B);
            MatMul.ForwardPacked(d.Fch, d.Ln, w[2], p.FcB, 1, C, 4 * C);
            ActivationForward(d.FchAct, d.Fch);
            MatMul.ForwardPacked(d.Branch, d.FchAct, w[3], p.FcProjB, 1, 4 * C, C);
            TensorPrimitives.Add(d.X, d.Branch, d.X);
        }
        var final = d.X;
        if (Config.FinalNorm)
        {
            NormRow(d.Ln, d.X, View(Parameters, lnFW, C), View(Parameters, lnFB, C));
            final = d.Ln;
        }
        MatMul.ForwardPacked(d.Logits, final, cache.Packed[^1], [], 1, C, V);
        cache.Length = t + 1;
        return d.Logits;
    }

    /// <summary>The model's norm on one row (C).</summary>
    void NormRow(Span<float> output, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) =>
        NormForward(output, decode.Mean, decode.Rstd, inp, weight, bias);
}
