using TokenSpace.Tensors;

namespace TokenSpace.Projection;

/// <summary>
/// UMAP's fuzzy simplicial set (McInnes, Healy and Melville 2018, section 3.1; umap-learn 0.5's
/// <c>fuzzy_simplicial_set</c>): each point's k nearest neighbours weighted by exp(−(d − ρ) / σ), with ρ the
/// distance to its nearest neighbour and σ chosen so the weights sum to log₂ k, then symmetrised by the fuzzy
/// union A + Aᵀ − A∘Aᵀ. A symmetric sparse matrix in CSR form, each row's columns increasing, no diagonal.
/// </summary>
/// <param name="RowStart">Where row i's entries begin, <c>(n + 1)</c>.</param>
/// <param name="Columns">The column of each entry, <c>(nnz)</c>.</param>
/// <param name="Values">The membership strength of each entry, in (0, 1], <c>(nnz)</c>.</param>
sealed record UmapGraph(int[] RowStart, int[] Columns, double[] Values)
{
    const int SearchSteps = 64;
    const double Tolerance = 1e-5;
    const double MinScale = 1e-3;
    const int RowsPerUnit = 256;

    /// <summary>Number of vertices.</summary>
    public int Count => RowStart.Length - 1;

    /// <summary>
    /// The graph of neighbour lists: for each of the n points, its <paramref name="others"/> nearest other points
    /// by increasing distance (so umap-learn's <c>n_neighbors</c> is others + 1: it counts the point itself).
    /// </summary>
    /// <param name="indices">Neighbour indices, <c>(n, others)</c>.</param>
    /// <param name="distances">Their Euclidean distances, increasing along each row, <c>(n, others)</c>.</param>
    /// <param name="n">Number of points.</param>
    /// <param name="others">Neighbours per point, the point itself not counted.</param>
    public static UmapGraph FromNeighbours(int[] indices, double[] distances, int n, int others)
    {
        var (rho, sigma) = SmoothDistances(distances, n, others);
        // Directed memberships A (n, others), then both directions of every edge as (row, column, A_rc, A_cr) entries.
        var counts = new int[n + 1];
        for (int t = 0; t < indices.Length; t++)
        {
            counts[t / others + 1]++;
            counts[indices[t] + 1]++;
        }
        for (int i = 0; i < n; i++) counts[i + 1] += counts[i];
        var fill = counts[..n];
        var column = new int[counts[n]];
        var forward = new double[counts[n]];
        var backward = new double[counts[n]];
        for (int t = 0; t < indices.Length; t++)
        {
            int i = t / others, j = indices[t];
            double excess = distances[t] - rho[i];
            double w = excess <= 0 || sigma[i] == 0 ? 1 : Math.Exp(-excess / sigma[i]);
            int at = fill[i]++;
            (column[at], forward[at]) = (j, w);
            at = fill[j]++;
            (column[at], backward[at]) = (i, w);
        }

        // Per row, sort by column and merge the two directions of a pair: A + Aᵀ − A∘Aᵀ.
        var rowStart = new int[n + 1];
        var mergedColumns = new int[counts[n]];
        var mergedValues = new double[counts[n]];
        var lengths = new int[n];
        Threads.For((n + RowsPerUnit - 1) / RowsPerUnit, unit =>
        {
            for (int i = unit * RowsPerUnit, end = Math.Min(n, i + RowsPerUnit); i < end; i++)
            {
                int start = counts[i], length = counts[i + 1] - start;
                var order = new int[length];
                for (int e = 0; e < length; e++) order[e] = start + e;
                Array.Sort(order, (p, q) => column[p].CompareTo(column[q]));
                int written = start;
                for (int e = 0; e < length;)
                {
                    int c = column[order[e]];
                    double ab = 0, ba = 0;
                    for (; e < length && column[order[e]] == c; e++)
                    {
                        ab += forward[order[e]];
                        ba += backward[order[e]];
                    }
                    mergedColumns[written] = c;
                    mergedValues[written++] = ab + ba - ab * ba;
                }
                lengths[i] = written - start;
            }
        });
        for (int i = 0; i < n; i++) rowStart[i + 1] = rowStart[i] + lengths[i];
        var columns = new int[rowStart[n]];
        var values = new double[rowStart[n]];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(mergedColumns, counts[i], columns, rowStart[i], lengths[i]);
            Array.Copy(mergedValues, counts[i], values, rowStart[i], lengths[i]);
        }
        return new UmapGraph(rowStart, columns, values);
    }

    /// <summary>
    /// umap-learn's <c>smooth_knn_dist</c> with local_connectivity 1: ρ_i is the distance to the nearest neighbour at
    /// a positive distance, σ_i solves Σ_j exp(−max(0, d_ij − ρ_i) / σ_i) = log₂(others + 1) by 64 bisection steps,
    /// then is kept at least 1e-3 × the mean neighbour distance (the point's own when ρ_i &gt; 0, else all points').
    /// The point itself, umap-learn's first neighbour at distance 0, enters only the means.
    /// </summary>
    internal static (double[] Rho, double[] Sigma) SmoothDistances(double[] distances, int n, int others)
    {
        double target = Math.Log2(others + 1);
        double meanAll = 0;
        foreach (double d in distances) meanAll += d;
        meanAll /= (double)n * (others + 1);
        var rho = new double[n];
        var sigma = new double[n];
        for (int i = 0; i < n; i++)
        {
            var row = new ReadOnlySpan<double>(distances, i * others, others);
            double mean = 0;
            foreach (double d in row)
            {
                if (rho[i] == 0 && d > 0) rho[i] = d;
                mean += d;
            }
            mean /= others + 1;

            double lo = 0, hi = double.PositiveInfinity, mid = 1;
            for (int step = 0; step < SearchSteps; step++)
            {
                double sum = 0;
                foreach (double d in row) sum += d - rho[i] > 0 ? Math.Exp(-(d - rho[i]) / mid) : 1;
                if (Math.Abs(sum - target) < Tolerance) break;
                if (sum > target)
                {
                    hi = mid;
                    mid = (lo + hi) / 2;
                }
                else
                {
                    lo = mid;
                    mid = double.IsPositiveInfinity(hi) ? mid * 2 : (lo + hi) / 2;
                }
            }
            sigma[i] = Math.Max(mid, MinScale * (rho[i] > 0 ? mean : meanAll));
        }
        return (rho, sigma);
    }

    /// <summary>Which connected component each vertex belongs to (numbered from 0 in order of their first vertex), and how many
    /// there are.</summary>
    public (int[] Component, int Count) Components()
    {
        int n = Count;
        var component = new int[n];
        Array.Fill(component, -1);
        var stack = new Stack<int>();
        int count = 0;
        for (int start = 0; start < n; start++)
        {
            if (component[start] >= 0) continue;
            component[start] = count;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                for (int e = RowStart[i]; e < RowStart[i + 1]; e++)
                {
                    if (component[Columns[e]] >= 0) continue;
                    component[Columns[e]] = count;
                    stack.Push(Columns[e]);
                }
            }
            count++;
        }
        return (component, count);
    }
}
