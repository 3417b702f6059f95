using System.Numerics.Tensors;
using TokenSpace.Tensors;

namespace TokenSpace.Projection;

/// <summary>
/// The input similarities of t-SNE: Gaussian conditional probabilities whose bandwidth per point is
/// found by binary search to match the perplexity, symmetrised into a joint distribution P.
/// Follows scikit-learn's <c>_binary_search_perplexity</c> and <c>_joint_probabilities(_nn)</c>.
/// </summary>
static class Affinities
{
    const int Steps = 100;
    const double EntropyTolerance = 1e-5;
    const int RowsPerUnit = 64;

    /// <summary>A symmetric sparse matrix in CSR form, values summing to 1.</summary>
    public sealed record Sparse(int[] RowStart, int[] Columns, double[] Values);

    /// <summary>
    /// Turns squared distances into conditional probabilities p(j|i) in place, one row of <paramref name="count"/>
    /// entries at a time, with beta = 1/(2 sigma^2) chosen so the row's entropy is log(perplexity).
    /// </summary>
    /// <param name="squaredDistances">Row i holds the distances to its candidates, <c>(rows, count)</c>; overwritten with p(j|i).</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="count">Entries per row.</param>
    /// <param name="perplexity">Target perplexity of every row.</param>
    /// <param name="skipDiagonal">Row i's entry i is the point itself (dense case) and gets probability 0.</param>
    public static void Conditional(double[] squaredDistances, int rows, int count, double perplexity, bool skipDiagonal)
    {
        double desiredEntropy = Math.Log(perplexity);
        Threads.For((rows + RowsPerUnit - 1) / RowsPerUnit, unit =>
        {
            var p = new double[count];
            int end = Math.Min(rows, (unit + 1) * RowsPerUnit);
            for (int i = unit * RowsPerUnit; i < end; i++)
            {
                var distances = new Span<double>(squaredDistances, i * count, count);
                double beta = 1, betaMin = double.NegativeInfinity, betaMax = double.PositiveInfinity;
                for (int step = 0; step < Steps; step++)
                {
                    double sum = 0;
                    for (int j = 0; j < count; j++)
                    {
                        p[j] = skipDiagonal && j == i ? 0 : Math.Exp(-distances[j] * beta);
                        sum += p[j];
                    }
                    if (sum == 0) sum = 1e-8;
                    double weighted = 0;
                    for (int j = 0; j < count; j++)
                    {
                        p[j] /= sum;
                        weighted += distances[j] * p[j];
                    }
                    double entropyDiff = Math.Log(sum) + beta * weighted - desiredEntropy;
                    if (Math.Abs(entropyDiff) <= EntropyTolerance) break;
                    if (entropyDiff > 0)
                    {
                        betaMin = beta;
                        beta = double.IsPositiveInfinity(betaMax) ? beta * 2 : (beta + betaMax) / 2;
                    }
                    else
                    {
                        betaMax = beta;
                        beta = double.IsNegativeInfinity(betaMin) ? beta / 2 : (beta + betaMin) / 2;
                    }
                }
                p.CopyTo(distances);
            }
        });
    }

    /// <summary>The dense joint P, <c>(n, n)</c>: (p(j|i) + p(i|j)) / sum, zero diagonal, other entries at least double epsilon.</summary>
    public static double[] Dense(ReadOnlySpan<float> x, int n, int d, double perplexity, CancellationToken cancellationToken = default)
    {
        var p = new double[n * n]; // (n, n) squared distances, then p(j|i)
        var rows = x.ToArray();
        Threads.For(n, i =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var xi = new ReadOnlySpan<float>(rows, i * d, d);
            for (int j = 0; j < n; j++)
            {
                double dist = TensorPrimitives.Distance(xi, new ReadOnlySpan<float>(rows, j * d, d));
                p[i * n + j] = dist * dist;
            }
        });
        Conditional(p, n, n, perplexity, skipDiagonal: true);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double s = p[i * n + j] + p[j * n + i];
                p[i * n + j] = s;
                p[j * n + i] = s;
                sum += 2 * s;
            }
        }
        sum = Math.Max(sum, Tsne.MachineEpsilon);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) p[i * n + j] = i == j ? 0 : Math.Max(p[i * n + j] / sum, Tsne.MachineEpsilon);
        }
        return p;
    }

    /// <summary>
    /// The sparse joint P over each point's <c>k</c> nearest neighbours (k = min(n - 1, floor(3 perplexity + 1))):
    /// conditional probabilities on the neighbours, then (P + Pᵀ) / sum.
    /// </summary>
    public static Sparse FromNeighbours(ReadOnlySpan<float> x, int n, int d, double perplexity,
        CancellationToken cancellationToken = default)
    {
        int k = Math.Min(n - 1, (int)(3 * perplexity + 1));
        var (neighbours, squared) = NearestNeighbours.Search(x, n, d, k, cancellationToken);
        Conditional(squared, n, k, perplexity, skipDiagonal: false);

        // Symmetrise: row i gets its own k entries plus every (j -> i) entry; duplicates are summed after sorting.
        var counts = new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            counts[i] += k;
            for (int t = 0; t < k; t++) counts[neighbours[i * k + t]]++;
        }
        var start = new int[n + 1];
        for (int i = 0; i < n; i++) start[i + 1] = start[i] + counts[i];
        var fill = start[..n];
        var columns = new int[start[n]];
        var values = new double[start[n]];
        for (int i = 0; i < n; i++)
        {
            for (int t = 0; t < k; t++)
            {
                int j = neighbours[i * k + t];
                double v = squared[i * k + t];
                columns[fill[i]] = j;
                values[fill[i]++] = v;
                columns[fill[j]] = i;
                values[fill[j]++] = v;
            }
        }

        var rowStart = new int[n + 1];
        int written = 0;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            Array.Sort(columns, values, start[i], start[i + 1] - start[i]);
            rowStart[i] = written;
            for (int e = start[i]; e < start[i + 1]; e++)
            {
                if (written > rowStart[i] && columns[written - 1] == columns[e])
                {
                    values[written - 1] += values[e];
                }
                else
                {
                    columns[written] = columns[e];
                    values[written++] = values[e];
                }
                sum += values[e];
            }
        }
        rowStart[n] = written;
        sum = Math.Max(sum, Tsne.MachineEpsilon);
        var outValues = new double[written];
        for (int e = 0; e < written; e++) outValues[e] = values[e] / sum;
        return new Sparse(rowStart, columns[..written], outValues);
    }
}
