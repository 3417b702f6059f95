using System.Text.Json;
using TokenSpace.Embeddings;
using TokenSpace.Tensors;
using TokenSpace.Tests.Tensors;

namespace TokenSpace.Tests.Embeddings;

public class TokenEmbeddingTests
{
    // PyTorch and we compute the same float operations; differences come only from the norm (its sum
    // order, and our double accumulation) in the max_norm cases: observed ≤ 1.2e-7 (1 ulp at |x| ≈ 1);
    // plain, padding_idx and scale_grad_by_freq match exactly.
    const double GoldenTolerance = 5e-7;

    public static TheoryData<string> GoldenCases => new(
        "plain", "padding_idx", "padding_idx_negative", "max_norm_l2", "max_norm_l1", "max_norm_p3", "max_norm_inf",
        "scale_grad_by_freq", "all_options");

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void ForwardBackward_PyTorchGolden_Match(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Golden("embedding.json")));
        var g = doc.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        int V = g.GetProperty("V").GetInt32(), C = g.GetProperty("C").GetInt32(), B = g.GetProperty("B").GetInt32(), T = g.GetProperty("T").GetInt32();
        var wte = new TokenEmbedding(Floats(g, "weight"), new float[V * C], V, C)
        {
            PaddingIdx = g.GetProperty("padding_idx").ValueKind == JsonValueKind.Null ? null : g.GetProperty("padding_idx").GetInt32(),
            MaxNorm = g.GetProperty("max_norm").ValueKind == JsonValueKind.Null ? null : g.GetProperty("max_norm").GetSingle(),
            NormType = g.GetProperty("norm_type").ValueKind == JsonValueKind.String ? float.PositiveInfinity : g.GetProperty("norm_type").GetSingle(),
            ScaleGradByFreq = g.GetProperty("scale_grad_by_freq").GetBoolean(),
        };
        int[] ids = [.. g.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
        var output = new float[B * T * C];
        wte.Forward(output, ids, B, T);
        wte.Backward(Floats(g, "dout"), ids, B, T);

        AssertClose(Floats(g, "out"), output);
        AssertClose(Floats(g, "weight_after"), wte.Weight.ToArray());
        AssertClose(Floats(g, "grad"), wte.Grad.ToArray());
    }

    [Fact]
    public void Forward_IdOutOfRange_ThrowsNamingWhereAndWritesNothing()
    {
        var wte = Table(V: 11, C: 3);
        int[] ids = [1, 2, 3, 4, 5, 6, 7, 11];
        var output = Enumerable.Repeat(-7f, ids.Length * 3).ToArray();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => wte.Forward(output, ids, B: 2, T: 4));
        Assert.Contains("token id 11 at batch row 1, position 3 is outside [0, 11)", ex.Message, StringComparison.Ordinal);
        Assert.All(output, x => Assert.Equal(-7f, x));

        ids[7] = 0;
        ids[1] = -2;
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => wte.Forward(output, ids, B: 2, T: 4));
        Assert.Contains("token id -2 at batch row 0, position 1 is outside [0, 11)", ex.Message, StringComparison.Ordinal);
        Assert.All(output, x => Assert.Equal(-7f, x));
    }

    [Fact]
    public void Backward_IdOutOfRange_ThrowsAndAddsNothing()
    {
        var wte = Table(V: 5, C: 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => wte.Backward(new float[4], [0, 5], B: 1, T: 2));
        Assert.All(wte.Grad.ToArray(), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void LookupAndGradient_OneHotTimesLinear_EqualExactly()
    {
        // One-hot row n times Wᵀ: each output is a sum with a single non-zero term 1 · W[id, c] (the
        // others are 0 · w = ±0, which leave a sum unchanged), so the product is the row, bit for bit.
        // dW[v] = Σ_n onehot[n, v] · dOut[n] adds the same dOut rows in the same (increasing n) order
        // as the scatter-add, plus zeros: again exact.
        const int V = 29, C = 19, B = 3, T = 7, N = B * T;
        var wte = Table(V, C);
        var ids = EmbeddingTests.Ids(N, V, seed: 21);
        var dOut = EmbeddingTests.Random(N * C, seed: 22);
        var lookup = new float[N * C];
        wte.Forward(lookup, ids, B, T);
        wte.Backward(dOut, ids, B, T);

        var (product, dWeight) = OneHotLinear(wte.Weight.ToArray(), ids, dOut, V, C);
        Assert.Equal(lookup, product);
        Assert.Equal(wte.Grad.ToArray(), dWeight);
    }

    /// <summary>out = onehot(ids) · Linear(V → C) with the Linear's weight (C, V) = tableᵀ; returns out and d(table).</summary>
    internal static (float[] Output, float[] DTable) OneHotLinear(float[] table, int[] ids, float[] dOut, int V, int C)
    {
        int N = ids.Length;
        var onehot = new float[N * V];
        for (int n = 0; n < N; n++) onehot[n * V + ids[n]] = 1;
        var weightT = Transpose(table, V, C);
        var output = new float[N * C];
        MatMul.Forward(output, onehot, weightT, [], N, V, C);
        var dWeightT = new float[C * V];
        MatMul.Backward([], dWeightT, [], dOut, onehot, weightT, N, V, C);
        return (output, Transpose(dWeightT, C, V));
    }

    [Fact]
    public void Backward_FiniteDifferences_MatchGradient()
    {
        const int V = 7, C = 3, B = 2, T = 4;
        var wte = Table(V, C);
        int[] ids = [0, 3, 3, 6, 1, 3, 0, 2];
        var R = EmbeddingTests.Random(B * T * C, seed: 23);
        wte.Backward(R, ids, B, T);
        var weight = wte.Weight.ToArray();
        Gradients.AssertMatchesFiniteDifferences(weight, wte.Grad.ToArray(), () =>
        {
            var output = new float[B * T * C];
            new TokenEmbedding(weight, new float[V * C], V, C).Forward(output, ids, B, T);
            double sum = 0;
            for (int i = 0; i < output.Length; i++) sum += (double)output[i] * R[i];
            return sum;
        });
    }

    [Fact]
    public void Backward_Frozen_AddsNothing()
    {
        var wte = Table(V: 4, C: 2);
        wte.Frozen = true;
        wte.Backward([1, 2, 3, 4], [1, 1], B: 1, T: 2);
        Assert.All(wte.Grad.ToArray(), x => Assert.Equal(0f, x));
        wte.Frozen = false;
        wte.Backward([1, 2, 3, 4], [1, 1], B: 1, T: 2);
        Assert.Equal([0, 0, 4, 6, 0, 0, 0, 0], wte.Grad.ToArray());
    }

    [Fact]
    public void FromPretrained_Freeze_UsesMatrixInPlaceWithoutGradient()
    {
        float[] matrix = [1, 2, 3, 4, 5, 6];
        var wte = TokenEmbedding.FromPretrained(matrix, vocabSize: 3, channels: 2, paddingIdx: 1);
        Assert.True(wte.Frozen);
        Assert.True(wte.Grad.IsEmpty);
        var output = new float[4];
        wte.Forward(output, [2, 1], 1, 2);
        // The padding row keeps its pretrained values, as in PyTorch.
        Assert.Equal([5, 6, 3, 4], output);
        matrix[0] = 10;
        Assert.Equal(10f, wte.Weight.Span[0]);
        Assert.Throws<InvalidOperationException>(() => wte.Frozen = false);

        var trainable = TokenEmbedding.FromPretrained(matrix, 3, 2, freeze: false, paddingIdx: 1, scaleGradByFreq: true);
        trainable.Backward([1, 1, 1, 1, 2, 2], [0, 1, 0], 1, 3);
        Assert.Equal([1.5f, 1.5f, 0, 0, 0, 0], trainable.Grad.ToArray());
    }

    [Fact]
    public void PaddingIdx_Initialize_ZeroRowAndNoGradient()
    {
        var wte = new TokenEmbedding(vocabSize: 6, channels: 4) { PaddingIdx = -2 };
        Assert.Equal(4, wte.PaddingIdx);
        wte.Initialize(EmbeddingInit.StandardNormal, new Rng(5));
        Assert.All(wte.Weight.Span.Slice(16, 4).ToArray(), x => Assert.Equal(0f, x));
        Assert.All(wte.Weight.Span[..16].ToArray(), x => Assert.NotEqual(0f, x));
        wte.Backward(Enumerable.Repeat(1f, 8).ToArray(), [4, 3], 1, 2);
        Assert.Equal(new float[4], wte.Grad.Span.Slice(16, 4).ToArray());
        Assert.Equal([1f, 1, 1, 1], wte.Grad.Span.Slice(12, 4).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => wte.PaddingIdx = 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => wte.PaddingIdx = -7);
    }

    [Theory]
    [InlineData(EmbeddingInit.Gpt2Normal, 0.02)]
    [InlineData(EmbeddingInit.StandardNormal, 1.0)]
    [InlineData(EmbeddingInit.Uniform, 0.125 / 1.7320508075688772)] // U(−a, a) has std a/√3; a = √(1/64)
    public void Initialize_Kinds_HaveTheirSpread(EmbeddingInit init, double std)
    {
        const int V = 500, C = 64;
        var wte = new TokenEmbedding(V, C);
        wte.Initialize(init, new Rng(17));
        var w = wte.Weight.ToArray();
        double mean = w.Average(x => (double)x), sd = Math.Sqrt(w.Average(x => ((double)x - mean) * ((double)x - mean)));
        // 32,000 draws: the sample mean is within 4 standard errors, the sample std within 3 %.
        Assert.InRange(mean, -4 * std / Math.Sqrt(w.Length), 4 * std / Math.Sqrt(w.Length));
        Assert.InRange(sd, 0.97 * std, 1.03 * std);
        if (init == EmbeddingInit.Uniform) Assert.All(w, x => Assert.InRange(x, -0.125f, 0.125f));
    }

    [Fact]
    public void Options_Invalid_Throw()
    {
        var wte = Table(V: 3, C: 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => wte.MaxNorm = -1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => wte.NormType = 0f);
        Assert.Throws<ArgumentException>(() => new TokenEmbedding(new float[6], new float[5], 3, 2));
    }

    static TokenEmbedding Table(int V, int C)
    {
        var wte = new TokenEmbedding(V, C);
        wte.Initialize(EmbeddingInit.StandardNormal, new Rng(20));
        return wte;
    }

    internal static float[] Transpose(float[] m, int rows, int cols)
    {
        var t = new float[m.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
        }
        return t;
    }

    static float[] Floats(JsonElement g, string name) => [.. g.GetProperty(name).EnumerateArray().Select(e => e.GetSingle())];

    static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
        Assert.True(max <= GoldenTolerance, $"max |diff| {max:G3} > {GoldenTolerance}");
    }
}
