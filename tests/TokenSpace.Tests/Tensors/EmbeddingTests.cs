using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

[Collection(ProcessWideState.Name)]
public class EmbeddingTests
{
    public static TheoryData<int> Lengths => [0, 1, 7, 8, 15, 16, 17, 31, 33, 1023];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Gather_EveryWidth_CopiesRows(int C)
    {
        const int V = 9;
        var table = Random(V * C, seed: 1);
        int[] ids = [3, 0, 8, 3, 5];
        var output = new float[ids.Length * C];
        Embedding.Gather(output, table, ids, C);
        for (int n = 0; n < ids.Length; n++) Assert.Equal(table.AsSpan(ids[n] * C, C), output.AsSpan(n * C, C));
    }

    [Theory]
    [InlineData(1027)]
    [InlineData(1024)]
    public void Gather_OutputAboveStreamingSize_CopiesRows(int C)
    {
        // 4200 rows of ≥ 1024 floats: more than 16 MB of output, written with streaming stores; C = 1027
        // leaves every row starting at a different alignment, so the unaligned heads and tails run too.
        const int V = 300, N = 4200;
        var table = Random(V * C, seed: 5);
        var ids = Ids(N, V, seed: 6);
        var output = new float[N * C];
        Embedding.Gather(output, table, ids, C);
        for (int n = 0; n < N; n++) Assert.True(table.AsSpan(ids[n] * C, C).SequenceEqual(output.AsSpan(n * C, C)), $"row {n}");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ScatterAdd_EveryWidthAndCount_EqualsScalarExactly(int length)
    {
        // The length is used both as the row width and as the number of ids, so every tail runs.
        foreach (var (N, C) in new[] { (length, 5), (23, length) })
        {
            const int V = 13;
            var ids = Ids(N, V, seed: 2);
            var dOut = Random(N * C, seed: 3);
            var expected = Random(V * C, seed: 4);
            var actual = (float[])expected.Clone();
            Embedding.ScatterAddScalar(expected, dOut, ids, C);
            Embedding.ScatterAdd(actual, dOut, ids, C);
            // Same additions in the same order (increasing n per row): bit for bit.
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void ScatterAdd_SkipAndScale_MatchesScalar()
    {
        const int V = 7, C = 33, N = 50;
        var ids = Ids(N, V, seed: 5);
        var dOut = Random(N * C, seed: 6);
        foreach (bool scale in new[] { false, true })
        {
            var expected = Random(V * C, seed: 7);
            var actual = (float[])expected.Clone();
            Embedding.ScatterAddScalar(expected, dOut, ids, C, skipId: 2, scaleByFrequency: scale);
            Embedding.ScatterAdd(actual, dOut, ids, C, skipId: 2, scaleByFrequency: scale);
            // Unscaled: exact. Scaled: the vector multiply-add may fuse (one rounding, not two), so ≤ 1e-6 relative.
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], scale ? 1e-6 * (1 + Math.Abs(expected[i])) : 0);
            // Row 2 (skipped) is untouched.
            Assert.Equal(Random(V * C, seed: 7).AsSpan(2 * C, C), actual.AsSpan(2 * C, C));
        }
    }

    [Fact]
    public void ScatterAdd_SkewedIdsOneAndTwoThreads_BitIdentical()
    {
        // Most ids equal, as with real text's frequent tokens: the split must still not depend on threads.
        const int V = 50, C = 40, N = 3000;
        var ids = Ids(N, V, seed: 8);
        for (int n = 0; n < N; n += 3) ids[n] = 7;
        var dOut = Random(N * C, seed: 9);
        var results = new List<float[]>();
        int saved = Threads.Count;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Threads.Count = threads;
                var dTable = new float[V * C];
                Embedding.ScatterAdd(dTable, dOut, ids, C, skipId: -1, scaleByFrequency: true);
                var output = new float[N * C];
                Embedding.Gather(output, dTable, ids, C);
                results.Add([.. dTable, .. output]);
            }
        }
        finally
        {
            Threads.Count = saved;
        }
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public void GatherScatter_FiniteDifferences_MatchGradient()
    {
        // L = Σ Gather(table, ids) · R; dL/dtable = ScatterAdd(R).
        const int V = 6, C = 4;
        int[] ids = [1, 4, 1, 0, 5, 1];
        var table = Random(V * C, seed: 10);
        var R = Random(ids.Length * C, seed: 11);
        var grad = new float[V * C];
        Embedding.ScatterAdd(grad, R, ids, C);
        Gradients.AssertMatchesFiniteDifferences(table, grad, () =>
        {
            var output = new float[ids.Length * C];
            Embedding.Gather(output, table, ids, C);
            double sum = 0;
            for (int i = 0; i < output.Length; i++) sum += (double)output[i] * R[i];
            return sum;
        });
        Assert.All(grad.AsSpan(2 * C, 2 * C).ToArray(), g => Assert.Equal(0f, g)); // rows 2 and 3 were not looked up
    }

    [Fact]
    public void Renorm_RowsAboveMaxNorm_ScaledOnceToMaxNorm()
    {
        const int C = 3;
        float[] table = [3, 4, 0, /* norm 5 */ 0.3f, 0.4f, 0, /* norm 0.5 */ 0, 0, 12 /* norm 12, not looked up */];
        Embedding.Renorm(table, [0, 1, 0, 0], C, maxNorm: 1f, normType: 2f);
        float scale = (float)(1.0 / (5.0 + 1e-7));
        Assert.Equal([3 * scale, 4 * scale, 0, 0.3f, 0.4f, 0, 0, 0, 12], table);
        Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Renorm(table, [0], C, 1f, 0f));
    }

    [Fact]
    public void Norm_Types_MatchDefinitions()
    {
        float[] row = [3, -4, 1];
        Assert.Equal(Math.Sqrt(26), Embedding.Norm(row, 2), 12);
        Assert.Equal(8, Embedding.Norm(row, 1), 12);
        Assert.Equal(4, Embedding.Norm(row, float.PositiveInfinity), 12);
        Assert.Equal(Math.Pow(27 + 64 + 1, 1 / 3.0), Embedding.Norm(row, 3), 12);
    }

    internal static float[] Random(int length, ulong seed)
    {
        var values = new float[length];
        new Rng(seed).FillGaussian(values, 0, 1);
        return values;
    }

    internal static int[] Ids(int N, int V, ulong seed)
    {
        var rng = new Rng(seed);
        var ids = new int[N];
        for (int n = 0; n < N; n++) ids[n] = rng.NextInt(V);
        return ids;
    }
}
