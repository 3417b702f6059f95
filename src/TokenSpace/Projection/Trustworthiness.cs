using System.Numerics.Tensors;
using TokenSpace.Tensors;

namespace TokenSpace.Projection;

/// <summary>How well a low-dimensional map keeps neighbourhoods (Venna and Kaski 2001), as
/// <c>sklearn.manifold.trustworthiness</c>.</summary>
public static class Trustworthiness
{
    const int RowsPerUnit = 32;

    /// <summary>
    /// T(k) = 1 − 2 / (n k (2n − 3k − 1)) · Σ_i Σ_{j ∈ U_k(i)} (r(i, j) − k), where U_k(i) are the k nearest
    /// neighbours of i in the map that are not among its k nearest in the original space, and r(i, j) is the
    /// rank of j by original distance from i (1 = nearest). 1 means every map neighbour is a true neighbour.
    /// Ties in distance rank the lower index first.
    /// </summary>
    /// <example><code>double t = Trustworthiness.Compute(vectors, n, d, map.Coordinates, 2, k: 10);</code></example>
    /// <param name="original">The original rows, <c>(n, d)</c> row-major.</param>
    /// <param name="n">Number of points.</param>
    /// <param name="d">Original dimension.</param>
    /// <param name="embedded">The map, <c>(n, dims)</c> row-major.</param>
    /// <param name="dims">Map dimension.</param>
    /// <param name="k">Neighbours considered; must be below n / 2.</param>
    /// <param name="sample">Points i whose terms are summed (the sum then scaled by n / sample size): an estimate for maps too large
    /// to score every point, unbiased when the sample is drawn uniformly. Null for all points, the exact value.</param>
    /// <exception cref="ArgumentException">The shapes disagree, k is not in [1, n / 2), or a sampled index is not in [0, n).</exception>
    public static double Compute(ReadOnlySpan<float> original, int n, int d, ReadOnlySpan<double> embedded, int dims, int k,
        IReadOnlyList<int>? sample = null)
    {
        if (original.Length != (long)n * d || embedded.Length != (long)n * dims)
        {
            throw new ArgumentException($"expected {n}x{d} original and {n}x{dims} embedded values, got {original.Length} and " +
                $"{embedded.Length}");
        }
        if (k < 1 || k >= n / 2.0) throw new ArgumentException($"k = {k} must be in [1, n/2 = {n / 2.0})", nameof(k));
        sample ??= Enumerable.Range(0, n).ToArray();
        if (sample.Count == 0 || sample.Any(i => i < 0 || i >= n))
        {
            throw new ArgumentException($"sampled points must be in [0, {n}) and at least one", nameof(sample));
        }

        int[] mapNeighbours = NearestNeighbours.Search(embedded, n, dims, k);
        var rows = new double[(long)n * d];
        for (int t = 0; t < rows.Length; t++) rows[t] = original[t];
        int units = (sample.Count + RowsPerUnit - 1) / RowsPerUnit;
        var penalty = new long[units];
        Threads.For(units, unit =>
        {
            var distance = new double[n];
            long sum = 0;
            for (int s = unit * RowsPerUnit, end = Math.Min(sample.Count, s + RowsPerUnit); s < end; s++)
            {
                int i = sample[s];
                var xi = new ReadOnlySpan<double>(rows, i * d, d);
                for (int j = 0; j < n; j++) distance[j] = TensorPrimitives.Distance(xi, new ReadOnlySpan<double>(rows, j * d, d));
                for (int t = 0; t < k; t++)
                {
                    int j = mapNeighbours[i * k + t];
                    int rank = 1;
                    for (int l = 0; l < n; l++)
                    {
                        if (l != i && (distance[l] < distance[j] || (distance[l] == distance[j] && l < j))) rank++;
                    }
                    if (rank > k) sum += rank - k;
                }
            }
            penalty[unit] = sum;
        });
        double total = penalty.Sum() * ((double)n / sample.Count);
        return 1 - total * (2.0 / (n * (double)k * (2.0 * n - 3.0 * k - 1.0)));
    }
}
