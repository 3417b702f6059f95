using System.Numerics.Tensors;
using TokenSpace.Tensors;

namespace TokenSpace.Projection;

/// <summary>Exact k-nearest-neighbour search by brute force (Euclidean), ties broken by the lower index.</summary>
static class NearestNeighbours
{
    const int RowsPerUnit = 32;

    /// <summary>
    /// For every row, its <paramref name="k"/> nearest other rows by increasing distance.
    /// Returns the indices <c>(n, k)</c> and the squared distances <c>(n, k)</c>.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static (int[] Indices, double[] Squared) Search(ReadOnlySpan<float> x, int n, int d, int k, CancellationToken cancellationToken = default)
    {
        var rows = x.ToArray();
        var indices = new int[n * k];
        var squared = new double[n * k];
        Threads.For((n + RowsPerUnit - 1) / RowsPerUnit, unit =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = Math.Min(n, (unit + 1) * RowsPerUnit);
            for (int i = unit * RowsPerUnit; i < end; i++)
            {
                var xi = new ReadOnlySpan<float>(rows, i * d, d);
                var bestIndex = new Span<int>(indices, i * k, k);
                var bestDistance = new Span<double>(squared, i * k, k);
                int found = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j == i) continue;
                    double dist = TensorPrimitives.Distance(xi, new ReadOnlySpan<float>(rows, j * d, d));
                    Insert(bestIndex, bestDistance, ref found, j, dist * dist);
                }
            }
        });
        return (indices, squared);
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

    /// <summary>Keeps the k smallest (distance, index) pairs sorted; j arrives in increasing order, so equal distances keep the lower index first.</summary>
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
