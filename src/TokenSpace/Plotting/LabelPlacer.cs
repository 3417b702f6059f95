namespace TokenSpace.Plotting;

/// <summary>
/// Greedy label placement: each label tries eight positions around its point (right, left, above, below,
/// then the diagonals) and takes the first whose box stays on the canvas and overlaps no placed label
/// and no point (or, when points do not all block, no labelled point). A uniform grid keeps every test
/// local, so n labels cost about O(n).
/// </summary>
sealed class LabelPlacer
{
    const double Cell = 24;
    const double Ascent = 0.78, Descent = 0.24, Padding = 1.5;

    readonly double width, height, top, radius;
    readonly bool allPointsBlock;
    readonly double[] points; // (n, 2) screen coordinates
    readonly int columns, rows;
    readonly List<int>[] pointCells;
    readonly List<(double X0, double Y0, double X1, double Y1)>[] labelCells;

    /// <param name="width">Canvas width.</param>
    /// <param name="height">Canvas height.</param>
    /// <param name="top">Labels stay below this (the title).</param>
    /// <param name="points">The points on screen, <c>(n, 2)</c>.</param>
    /// <param name="radius">Point radius.</param>
    /// <param name="allPointsBlock">Every point blocks labels; otherwise only points whose label was placed.</param>
    public LabelPlacer(double width, double height, double top, double[] points, double radius, bool allPointsBlock = true)
    {
        this.width = width;
        this.height = height;
        this.top = top;
        this.points = points;
        this.radius = radius;
        this.allPointsBlock = allPointsBlock;
        columns = (int)Math.Ceiling(width / Cell) + 1;
        rows = (int)Math.Ceiling(height / Cell) + 1;
        pointCells = new List<int>[columns * rows];
        labelCells = new List<(double, double, double, double)>[columns * rows];
        for (int c = 0; c < pointCells.Length; c++)
        {
            pointCells[c] = [];
            labelCells[c] = [];
        }
        if (!allPointsBlock) return;
        for (int i = 0; i < points.Length / 2; i++) Block(i);
    }

    /// <summary>Makes point i an obstacle in every cell its circle touches.</summary>
    void Block(int i) =>
        ForCells(points[2 * i] - radius, points[2 * i + 1] - radius, points[2 * i] + radius, points[2 * i + 1] + radius,
            c => pointCells[c].Add(i));


    /// <summary>Keeps labels out of a rectangle (the legend).</summary>
    public void Block((double X0, double Y0, double X1, double Y1) box)
    {
        if (box.X1 > box.X0) ForCells(box.X0, box.Y0, box.X1, box.Y1, c => labelCells[c].Add(box));
    }

    /// <summary>Finds a place for point <paramref name="i"/>'s label of the given size; returns the text's start x and baseline
    /// y.</summary>
    public bool TryPlace(int i, double textWidth, double fontSize, out double x, out double y)
    {
        double px = points[2 * i], py = points[2 * i + 1];
        double gap = radius + 2, diagonal = radius * 0.7 + 1;
        double h = (Ascent + Descent) * fontSize, w = textWidth;
        Span<(double X0, double Y0)> candidates =
        [
            (px + gap, py - h / 2),
            (px - gap - w, py - h / 2),
            (px - w / 2, py - gap - h),
            (px - w / 2, py + gap),
            (px + diagonal, py - diagonal - h),
            (px - diagonal - w, py - diagonal - h),
            (px + diagonal, py + diagonal),
            (px - diagonal - w, py + diagonal),
        ];
        foreach (var (x0, y0) in candidates)
        {
            // Padded, so neighbouring words never touch and read as one.
            var box = (x0 - Padding, y0, x0 + w + Padding, y0 + h);
            if (x0 < 2 || y0 < top || x0 + w > width - 2 || y0 + h > height - 2 || Blocked(box)) continue;
            ForCells(box.Item1, box.y0, box.Item3, box.Item4, c => labelCells[c].Add(box));
            if (!allPointsBlock) Block(i);
            x = x0;
            y = y0 + Ascent * fontSize;
            return true;
        }
        x = y = 0;
        return false;
    }

    bool Blocked((double X0, double Y0, double X1, double Y1) box)
    {
        bool blocked = false;
        ForCells(box.X0, box.Y0, box.X1, box.Y1, c =>
        {
            if (blocked) return;
            foreach (var other in labelCells[c])
            {
                if (box.X0 < other.X1 && other.X0 < box.X1 && box.Y0 < other.Y1 && other.Y0 < box.Y1)
                {
                    blocked = true;
                    return;
                }
            }
            foreach (int j in pointCells[c])
            {
                // Distance from the circle's centre to the nearest point of the box.
                double dx = Math.Max(Math.Max(box.X0 - points[2 * j], 0), points[2 * j] - box.X1);
                double dy = Math.Max(Math.Max(box.Y0 - points[2 * j + 1], 0), points[2 * j + 1] - box.Y1);
                if (dx * dx + dy * dy < radius * radius)
                {
                    blocked = true;
                    return;
                }
            }
        });
        return blocked;
    }

    void ForCells(double x0, double y0, double x1, double y1, Action<int> visit)
    {
        int c0 = Math.Clamp((int)(x0 / Cell), 0, columns - 1), c1 = Math.Clamp((int)(x1 / Cell), 0, columns - 1);
        int r0 = Math.Clamp((int)(y0 / Cell), 0, rows - 1), r1 = Math.Clamp((int)(y1 / Cell), 0, rows - 1);
        for (int r = r0; r <= r1; r++)
        {
            for (int c = c0; c <= c1; c++) visit(r * columns + c);
        }
    }
}
