using System.Numerics.Tensors;
using TokenSpace.Projection;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Projection;

[Collection(ProcessWideState.Name)]
public class NearestNeighboursTests
{
    /// <summary>The oracle: every pair measured, the k smallest (distance, index) kept.</summary>
    static (int[] Indices, double[] Squared) Plain(float[] x, int n, int d, int k)
    {
        var indices = new int[n * k];
        var squared = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            var best = Enumerable.Range(0, n).Where(j => j != i)
                .Select(j => (J: j, S: Math.Pow(TensorPrimitives.Distance(x.AsSpan(i * d, d), x.AsSpan(j * d, d)), 2)))
                .OrderBy(p => p.S).ThenBy(p => p.J).Take(k).ToArray();
            for (int t = 0; t < k; t++) (indices[i * k + t], squared[i * k + t]) = best[t];
        }
        return (indices, squared);
    }

    [Theory]
    [InlineData(7, 3, 6)]
    [InlineData(33, 17, 5)]
    [InlineData(300, 31, 14)]
    [InlineData(700, 100, 9)]
    public void Search_RandomRows_EqualsThePlainSearch(int n, int d, int k)
    {
        var random = new Random(n + d);
        var x = Enumerable.Range(0, n * d).Select(_ => (float)ProjectionData.Normal(random)).ToArray();
        if (n > 10) x.AsSpan(3 * d, d).CopyTo(x.AsSpan(9 * d, d)); // a duplicate row

        var (indices, squared) = NearestNeighbours.Search(x, n, d, k, TestContext.Current.CancellationToken);

        var expected = Plain(x, n, d, k);
        Assert.Equal(expected.Indices, indices);
        Assert.Equal(expected.Squared, squared);
    }

    [Fact]
    public void Search_LatticeTies_EqualsThePlainSearchAtOneAndTwoThreads()
    {
        // Integer points of a 6 × 6 × 6 grid: many rows share the k-th distance, so the estimates cannot decide and rows fall back.
        const int side = 6, d = 3, n = side * side * side, k = 10;
        var x = new float[n * d];
        for (int i = 0; i < n; i++) (x[i * d], x[i * d + 1], x[i * d + 2]) = (i % side, i / side % side, i / (side * side));
        var expected = Plain(x, n, d, k);
        int saved = Threads.Count;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Threads.Count = threads;
                var (indices, squared) = NearestNeighbours.Search(x, n, d, k, TestContext.Current.CancellationToken);
                Assert.Equal(expected.Indices, indices);
                Assert.Equal(expected.Squared, squared);
            }
        }
        finally
        {
            Threads.Count = saved;
        }
    }
}
