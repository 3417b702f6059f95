using TokenSpace.Model;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Model;

public class SamplerTests
{
    /// <summary>The former implementation: sort all ids by score (descending, ties by lower id) and cut after k.</summary>
    static double[] KeepTopKBySorting(double[] scores, int k)
    {
        var result = (double[])scores.Clone();
        var order = Enumerable.Range(0, scores.Length).ToArray();
        Array.Sort(order, (a, b) => scores[b].CompareTo(scores[a]) is var c && c != 0 ? c : a.CompareTo(b));
        for (int r = k; r < order.Length; r++) result[order[r]] = double.NegativeInfinity;
        return result;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(27, 5)]
    [InlineData(100, 1)]
    [InlineData(100, 40)]
    [InlineData(100, 99)]
    [InlineData(1000, 50)]
    public void KeepTopK_RandomLogitsWithTies_SameAsFullSort(int V, int k)
    {
        var rng = new Rng((ulong)(V * 1000 + k));
        for (int trial = 0; trial < 20; trial++)
        {
            var scores = new double[V];
            // Odd trials round to a few values, so many ties fall at the cut.
            for (int v = 0; v < V; v++) scores[v] = trial % 2 == 0 ? rng.NextDouble() * 10 - 5 : Math.Round(rng.NextDouble() * 4);
            var expected = KeepTopKBySorting(scores, k);
            Sampler.KeepTopK(scores, new int[k]);
            Assert.Equal(expected, scores);
            Assert.Equal(k, scores.Count(s => s > double.NegativeInfinity));
        }
    }
}
