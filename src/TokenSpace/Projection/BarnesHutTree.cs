using System.Runtime.CompilerServices;

namespace TokenSpace.Projection;

/// <summary>
/// A 2^d-ary space-partitioning tree over points of type <typeparamref name="T"/> (a quadtree for <see cref="Point2"/>, an
/// octree for <see cref="Point3"/>) for the Barnes–Hut approximation of t-SNE's repulsive forces. Cells split at their
/// midpoint along every axis as in scikit-learn's <c>_QuadTree</c>; a leaf holds one point, or several identical points.
/// Nodes are flat arrays, children of a node contiguous, rebuilt in place every iteration.
/// </summary>
sealed class BarnesHutTree<T> where T : struct, ITreePoint<T>
{
    // A cell this deep (2^-48 of the extent wide) stops splitting even if its points differ; they are then summed exactly as one leaf.
    const int MaxDepth = 48;

    // The traversal stack holds at most (2^d − 1) siblings a level plus one; sized for the octree, a constant so the JIT allocates
    // it in the frame (a size computed from T measured about 20 % slower in 2-D).
    const int StackSize = 8 * MaxDepth + 8;

    static readonly int Orthants = 1 << T.Dimensions;

    int count;
    T[] center = new T[64];
    double[] squaredWidth = new double[64];
    int[] size = new int[64], childStart = new int[64], childCount = new int[64], pointStart = new int[64];
    int[] order = [];
    int[] scratch = [];
    T[] points = [];

    /// <summary>Rebuilds the tree over <paramref name="y"/>, <c>(n, d)</c> row-major.</summary>
    public void Build(ReadOnlySpan<double> y, int n)
    {
        if (order.Length != n)
        {
            order = new int[n];
            scratch = new int[n];
            points = new T[n];
        }
        var lo = new T();
        var hi = new T();
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
            points[i] = T.Read(y, i);
            lo = i == 0 ? points[i] : T.Min(lo, points[i]);
            hi = i == 0 ? points[i] : T.Max(hi, points[i]);
        }
        count = 0;
        int root = NewNode();
        Fill(root, 0, n, lo, hi, 0);
    }

    int NewNode()
    {
        if (count == size.Length)
        {
            int grown = count * 2;
            Array.Resize(ref center, grown);
            Array.Resize(ref squaredWidth, grown);
            Array.Resize(ref size, grown);
            Array.Resize(ref childStart, grown);
            Array.Resize(ref childCount, grown);
            Array.Resize(ref pointStart, grown);
        }
        return count++;
    }

    /// <summary>Makes <paramref name="node"/> the cell [lo, hi] holding points order[from..to).</summary>
    void Fill(int node, int from, int to, T lo, T hi, int depth)
    {
        var sum = new T();
        T first = points[order[from]];
        bool identical = true;
        for (int t = from; t < to; t++)
        {
            T p = points[order[t]];
            sum += p;
            identical &= T.Same(p, first);
        }
        int m = to - from;
        center[node] = sum / m;
        double width = T.MaxCoordinate(hi - lo);
        size[node] = m;
        squaredWidth[node] = width * width;
        pointStart[node] = from;
        childStart[node] = 0;
        childCount[node] = 0;
        if (m == 1 || identical || depth == MaxDepth) return;

        // Stable partition into the orthants through the scratch buffer.
        T mid = (lo + hi) * 0.5;
        Span<int> orthantEnd = stackalloc int[Orthants + 1];
        orthantEnd.Clear();
        for (int t = from; t < to; t++) orthantEnd[T.Orthant(points[order[t]], mid) + 1]++;
        for (int q = 0; q < Orthants; q++) orthantEnd[q + 1] += orthantEnd[q];
        Span<int> cursor = stackalloc int[Orthants];
        for (int q = 0; q < Orthants; q++) cursor[q] = from + orthantEnd[q];
        for (int t = from; t < to; t++) scratch[cursor[T.Orthant(points[order[t]], mid)]++] = order[t];
        Array.Copy(scratch, from, order, from, m);

        int nonEmpty = 0;
        for (int q = 0; q < Orthants; q++) nonEmpty += orthantEnd[q + 1] > orthantEnd[q] ? 1 : 0;
        int firstChild = count;
        for (int c = 0; c < nonEmpty; c++) NewNode();
        childStart[node] = firstChild;
        childCount[node] = nonEmpty;
        int child = firstChild;
        for (int q = 0; q < Orthants; q++)
        {
            int a = from + orthantEnd[q], b = from + orthantEnd[q + 1];
            if (a != b) Fill(child++, a, b, T.Pick(q, lo, mid), T.Pick(q, mid, hi), depth + 1);
        }
    }

    /// <summary>
    /// The repulsive sums for point <paramref name="i"/> at <paramref name="at"/>: Σ_j w_ij, returned, and Σ_j w_ij² (y_i − y_j)
    /// into <paramref name="force"/>, with w = 1/(1 + |y_i − y_j|²), j ≠ i. A cell whose width w satisfies w² / dist² &lt; θ²
    /// stands for all its points at their centre of mass (scikit-learn's criterion).
    /// </summary>
    [SkipLocalsInit] // the stack is written before it is read: no need to zero 1.5 KB a call
    public double Repulsion(int i, T at, double squaredTheta, out T force)
    {
        double sumQ = 0;
        force = new T();
        Span<int> stack = stackalloc int[StackSize];
        int top = 0;
        stack[top++] = 0;
        while (top > 0)
        {
            int node = stack[--top];
            if (childCount[node] == 0)
            {
                // A leaf: its points one by one (usually one point; skipping i removes the self-interaction).
                for (int t = pointStart[node], end = t + size[node]; t < end; t++)
                {
                    int j = order[t];
                    if (j == i) continue;
                    T diff = at - points[j];
                    double w = 1 / T.OnePlusSquaredNorm(diff);
                    sumQ += w;
                    force += diff * (w * w);
                }
                continue;
            }
            T toCenter = at - center[node];
            double d2 = T.SquaredNorm(toCenter);
            if (squaredWidth[node] < squaredTheta * d2)
            {
                double w = 1 / (1 + d2);
                double sw = size[node] * w;
                sumQ += sw;
                force += toCenter * (sw * w);
                continue;
            }
            for (int c = childStart[node] + childCount[node] - 1; c >= childStart[node]; c--) stack[top++] = c;
        }
        return sumQ;
    }
}
