namespace TokenSpace.Projection;

/// <summary>
/// A quadtree over 2-D points for the Barnes–Hut approximation of t-SNE's repulsive forces. Cells split
/// at their midpoint as in scikit-learn's <c>_QuadTree</c>; a leaf holds one point, or several identical
/// points. Nodes are flat arrays, children of a node contiguous, rebuilt in place every iteration.
/// </summary>
sealed class QuadTree
{
    // A cell this deep (2^-48 of the extent wide) stops splitting even if its points differ; they are then summed exactly as one leaf.
    const int MaxDepth = 48;

    int count;
    double[] centerX = new double[64], centerY = new double[64], squaredWidth = new double[64];
    int[] size = new int[64], childStart = new int[64], childCount = new int[64], pointStart = new int[64];
    int[] order = [];
    int[] scratch = [];
    double[] px = [], py = [];

    /// <summary>Rebuilds the tree over <paramref name="y"/>, <c>(n, 2)</c> row-major.</summary>
    public void Build(ReadOnlySpan<double> y, int n)
    {
        if (order.Length != n)
        {
            order = new int[n];
            scratch = new int[n];
            px = new double[n];
            py = new double[n];
        }
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity;
        double maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
            px[i] = y[2 * i];
            py[i] = y[2 * i + 1];
            minX = Math.Min(minX, px[i]);
            maxX = Math.Max(maxX, px[i]);
            minY = Math.Min(minY, py[i]);
            maxY = Math.Max(maxY, py[i]);
        }
        count = 0;
        int root = NewNode();
        Fill(root, 0, n, minX, maxX, minY, maxY, 0);
    }

    int NewNode()
    {
        if (count == size.Length)
        {
            int grown = count * 2;
            Array.Resize(ref centerX, grown);
            Array.Resize(ref centerY, grown);
            Array.Resize(ref squaredWidth, grown);
            Array.Resize(ref size, grown);
            Array.Resize(ref childStart, grown);
            Array.Resize(ref childCount, grown);
            Array.Resize(ref pointStart, grown);
        }
        return count++;
    }

    /// <summary>Makes <paramref name="node"/> the cell [x0, x1] × [y0, y1] holding points order[lo..hi).</summary>
    void Fill(int node, int lo, int hi, double x0, double x1, double y0, double y1, int depth)
    {
        double sx = 0, sy = 0;
        bool identical = true;
        for (int t = lo; t < hi; t++)
        {
            int p = order[t];
            sx += px[p];
            sy += py[p];
            identical &= px[p] == px[order[lo]] && py[p] == py[order[lo]];
        }
        int m = hi - lo;
        centerX[node] = sx / m;
        centerY[node] = sy / m;
        size[node] = m;
        double width = Math.Max(x1 - x0, y1 - y0);
        squaredWidth[node] = width * width;
        pointStart[node] = lo;
        childStart[node] = 0;
        childCount[node] = 0;
        if (m == 1 || identical || depth == MaxDepth) return;

        // Stable partition into the four quadrants (x low/high × y low/high) through the scratch buffer.
        double midX = (x0 + x1) / 2, midY = (y0 + y1) / 2;
        Span<int> quadrantEnd = stackalloc int[5];
        quadrantEnd.Clear();
        for (int t = lo; t < hi; t++) quadrantEnd[Quadrant(order[t], midX, midY) + 1]++;
        for (int q = 0; q < 4; q++) quadrantEnd[q + 1] += quadrantEnd[q];
        Span<int> cursor = stackalloc int[4];
        for (int q = 0; q < 4; q++) cursor[q] = lo + quadrantEnd[q];
        for (int t = lo; t < hi; t++) scratch[cursor[Quadrant(order[t], midX, midY)]++] = order[t];
        Array.Copy(scratch, lo, order, lo, m);

        int nonEmpty = 0;
        for (int q = 0; q < 4; q++) nonEmpty += quadrantEnd[q + 1] > quadrantEnd[q] ? 1 : 0;
        int first = count;
        for (int c = 0; c < nonEmpty; c++) NewNode();
        childStart[node] = first;
        childCount[node] = nonEmpty;
        int child = first;
        for (int q = 0; q < 4; q++)
        {
            int a = lo + quadrantEnd[q], b = lo + quadrantEnd[q + 1];
            if (a == b) continue;
            bool high = (q & 1) != 0, top = (q & 2) != 0;
            Fill(child++, a, b, high ? midX : x0, high ? x1 : midX, top ? midY : y0, top ? y1 : midY, depth + 1);
        }
    }

    int Quadrant(int p, double midX, double midY) => (px[p] >= midX ? 1 : 0) | (py[p] >= midY ? 2 : 0);

    /// <summary>
    /// The repulsive sums for point <paramref name="i"/> at (x, y): Σ_j w_ij into <paramref name="sumQ"/> and
    /// Σ_j w_ij² (y_i − y_j) into (fx, fy), with w = 1/(1 + |y_i − y_j|²), j ≠ i. A cell whose width w
    /// satisfies w² / dist² &lt; θ² stands for all its points at their centre of mass (scikit-learn's criterion).
    /// </summary>
    public void Repulsion(int i, double x, double y, double squaredTheta, out double sumQ, out double fx, out double fy)
    {
        sumQ = 0;
        fx = 0;
        fy = 0;
        Span<int> stack = stackalloc int[4 * MaxDepth + 8];
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
                    double dx = x - px[j], dy = y - py[j];
                    double w = 1 / (1 + dx * dx + dy * dy);
                    sumQ += w;
                    fx += w * w * dx;
                    fy += w * w * dy;
                }
                continue;
            }
            double cx = x - centerX[node], cy = y - centerY[node];
            double d2 = cx * cx + cy * cy;
            if (squaredWidth[node] < squaredTheta * d2)
            {
                double w = 1 / (1 + d2);
                double sw = size[node] * w;
                sumQ += sw;
                fx += sw * w * cx;
                fy += sw * w * cy;
                continue;
            }
            for (int c = childStart[node] + childCount[node] - 1; c >= childStart[node]; c--) stack[top++] = c;
        }
    }
}
