using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using TokenSpace.Tensors;

namespace TokenSpace.Projection;

/// <summary>Exact k-nearest-neighbour search by brute force (Euclidean), ties broken by the lower index.</summary>
static class NearestNeighbours
{
    const int RowsPerUnit = 32;
    const int Lanes = 8; // floats of a Vector256

    /// <summary>
    /// For every row, its <paramref name="k"/> nearest other rows by increasing distance.
    /// Returns the indices <c>(n, k)</c> and the squared distances <c>(n, k)</c>.
    /// </summary>
    /// <remarks>
    /// Candidates come from |x_i|² + |x_j|² − 2 x_i·x_j with the products of a block of rows against all rows taken as one
    /// matrix product; the 2k best candidates are then measured as the brute force measures every row (TensorPrimitives.Distance).
    /// A float32 dot product of length d is off by at most γ_d·|x_i|·|x_j| (γ_d = d·u / (1 − d·u), u = 2⁻²⁴), so when the
    /// k-th measured distance lies below the worst candidate's estimate minus a margin for that error, no row left out can
    /// be nearer; otherwise (near-ties at the boundary, rare) the row is searched by brute force. The answer is that of the
    /// brute force search: the same neighbours, the same distances, for any <see cref="Threads.Count"/>.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static (int[] Indices, double[] Squared) Search(ReadOnlySpan<float> x, int n, int d, int k,
        CancellationToken cancellationToken = default)
    {
        var rows = x.ToArray();
        var indices = new int[n * k];
        var squared = new double[n * k];
        var norms = new double[n];
        double largest = 0;
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int c = 0; c < d; c++) sum += (double)rows[i * d + c] * rows[i * d + c];
            norms[i] = sum;
            largest = Math.Max(largest, sum);
        }
        double unit = Math.Pow(2, -24), gamma = d * unit / (1 - d * unit);
        int candidates = Math.Min(n - 1, 2 * k);
        int block = Math.Clamp(8_000_000 / Math.Max(n, 1), 16, 256);
        float[] packed = MatMul.Pack(rows, d, n);
        var products = new float[block * n]; // (block, n)
        for (int first = 0; first < n; first += block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(block, n - first);
            MatMul.ForwardPacked(products.AsSpan(0, count * n), rows.AsSpan(first * d, count * d), packed, [], count, d, n);
            Threads.For((count + RowsPerUnit - 1) / RowsPerUnit, u =>
            {
                var candidateIndex = new int[candidates];
                var candidateEstimate = new double[candidates];
                for (int r = u * RowsPerUnit, end = Math.Min(count, r + RowsPerUnit); r < end; r++)
                {
                    int i = first + r;
                    int found = 0;
                    var product = new ReadOnlySpan<float>(products, r * n, n);
                    for (int j = 0; j < n; j += Lanes)
                    {
                        int stop = Math.Min(n, j + Lanes);
                        bool full = found == candidates && stop - j == Lanes;
                        if (full && !AnyBelow(product, norms, norms[i], j, candidateEstimate[^1])) continue;
                        for (int t = j; t < stop; t++)
                        {
                            if (t != i) Insert(candidateIndex, candidateEstimate, ref found, t, norms[i] + norms[t] - 2.0 * product[t]);
                        }
                    }
                    var xi = new ReadOnlySpan<float>(rows, i * d, d);
                    var bestIndex = new Span<int>(indices, i * k, k);
                    var bestDistance = new Span<double>(squared, i * k, k);
                    int kept = 0;
                    // Measured in index order, so equal distances keep the lower index first, as the brute force does.
                    Array.Sort(candidateIndex);
                    foreach (int j in candidateIndex)
                    {
                        double dist = TensorPrimitives.Distance(xi, new ReadOnlySpan<float>(rows, j * d, d));
                        Insert(bestIndex, bestDistance, ref kept, j, dist * dist);
                    }
                    // Error of an estimate, twice (the products', then the exact measure's own rounding), plus the double sums'.
                    double worst = candidateEstimate[candidates - 1];
                    double margin = 4 * gamma * (Math.Sqrt(norms[i] * largest) + worst) + 1e-12 * (norms[i] + largest);
                    if (candidates < n - 1 && bestDistance[k - 1] >= worst - margin) BruteForce(rows, n, d, i, bestIndex, bestDistance);
                }
            });
        }
        return (indices, squared);
    }

    /// <summary>Whether any of the <see cref="Lanes"/> estimates |x_i|² + |x_j|² − 2 x_i·x_j from column j on lies below
    /// <paramref name="limit"/>, in the same double arithmetic as the scalar estimate: a block of columns that cannot enter the
    /// candidates is passed over without a look at each.</summary>
    static bool AnyBelow(ReadOnlySpan<float> product, double[] norms, double normI, int j, double limit)
    {
        var p = Vector256.Create(product.Slice(j, Lanes));
        var own = Vector256.Create(normI);
        var low = own + Vector256.Create(norms, j) - Vector256.Create(2.0) * Vector256.WidenLower(p);
        var high = own + Vector256.Create(norms, j + Lanes / 2) - Vector256.Create(2.0) * Vector256.WidenUpper(p);
        var bound = Vector256.Create(limit);
        return Vector256.LessThanAny(low, bound) || Vector256.LessThanAny(high, bound);
    }

    /// <summary>Row i's k nearest other rows by measuring every one.</summary>
    static void BruteForce(float[] rows, int n, int d, int i, Span<int> bestIndex, Span<double> bestDistance)
    {
        var xi = new ReadOnlySpan<float>(rows, i * d, d);
        int found = 0;
        for (int j = 0; j < n; j++)
        {
            if (j == i) continue;
            double dist = TensorPrimitives.Distance(xi, new ReadOnlySpan<float>(rows, j * d, d));
            Insert(bestIndex, bestDistance, ref found, j, dist * dist);
        }
    }

    /// <summary>The same search among 2-D (or any <paramref name="dims"/>) double points.</summary>
    public static int[] Search(ReadOnlySpan<double> points, int n, int dims, int k)
    {
        var rows = points.ToArray();
        var indices = new int[n * k];
        Threads.For((n + RowsPerUnit - 1) / RowsPerUnit, unit =>
        {
            var distances = new double[k];
            int end = Math.Min(n, (unit + 1) * RowsPerUnit);
            for (int i = unit * RowsPerUnit; i < end; i++)
            {
                var bestIndex = new Span<int>(indices, i * k, k);
                int found = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j == i) continue;
                    double dist = 0;
                    for (int c = 0; c < dims; c++)
                    {
                        double delta = rows[i * dims + c] - rows[j * dims + c];
                        dist += delta * delta;
                    }
                    Insert(bestIndex, distances, ref found, j, dist);
                }
            }
        });
        return indices;
    }

    /// <summary>Keeps the k smallest (distance, index) pairs sorted; j arrives in increasing order, so equal distances keep the lower index
    /// first.</summary>
    static void Insert(Span<int> index, Span<double> distance, ref int found, int j, double dist)
    {
        int k = index.Length;
        if (found == k && dist >= distance[k - 1]) return;
        int at = found < k ? found++ : k - 1;
        while (at > 0 && distance[at - 1] > dist)
        {
            distance[at] = distance[at - 1];
            index[at] = index[at - 1];
            at--;
        }
        distance[at] = dist;
        index[at] = j;
    }
}
