using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using TokenSpace.IO;

namespace TokenSpace.Plotting;

/// <summary>How a heatmap looks.</summary>
public sealed record HeatmapOptions
{
    /// <summary>Heading at the top; null for none.</summary>
    public string? Title { get; init; }

    /// <summary>A grey line under the title; null for none.</summary>
    public string? Subtitle { get; init; }

    /// <summary>
    /// The value at the low end of the scale (lower values are clamped to it); null: from the data (<see cref="HeatmapPlot.ScaleOf"/>).
    /// </summary>
    public double? Min { get; init; }

    /// <summary>The value at the high end of the scale; null: from the data.</summary>
    public double? Max { get; init; }

    /// <summary>Write each cell's value in it; null: when there are at most 16 rows and 16 columns.</summary>
    public bool? Values { get; init; }

    /// <summary>What a cell holds, written beside the colour bar.</summary>
    public string ValueName { get; init; } = "cosine similarity";

    /// <summary>Side of a cell in px; null sizes the grid to about 640 px.</summary>
    public double? CellSize { get; init; }

    /// <summary>Row and column label font size in px (labels thin out when cells are smaller).</summary>
    public double FontSize { get; init; } = 11;
}

/// <summary>
/// SVG heatmaps of a matrix (typically cosine similarities): one rect per cell (class <c>cell</c>, its exact
/// value in <c>data-value</c> and a tooltip), row labels on the left, column labels slanted on top, a colour bar
/// scaled to the data: sequential (ColorBrewer Blues, light low, dark high) when every value is on one side of 0,
/// diverging around 0 (ColorBrewer RdBu: blue low, white 0, red high) only when the values cross it. Small grids
/// carry their values in the cells.
/// </summary>
public static class HeatmapPlot
{
    const double Margin = 16;

    /// <summary>Values are written in the cells up to this many rows and columns.</summary>
    public const int MaxRowsWithValues = 16;

    // ColorBrewer Blues, 9 classes, from the low (light) to the high (dark) end.
    internal static readonly (byte R, byte G, byte B)[] Sequential =
    [
        (0xf7, 0xfb, 0xff), (0xde, 0xeb, 0xf7), (0xc6, 0xdb, 0xef), (0x9e, 0xca, 0xe1), (0x6b, 0xae, 0xd6), (0x42, 0x92, 0xc6),
        (0x21, 0x71, 0xb5), (0x08, 0x51, 0x9c), (0x08, 0x30, 0x6b),
    ];

    // ColorBrewer RdBu, 11 classes, from the low (blue) to the high (red) end.
    internal static readonly (byte R, byte G, byte B)[] Diverging =
    [
        (0x05, 0x30, 0x61), (0x21, 0x66, 0xac), (0x43, 0x93, 0xc3), (0x92, 0xc5, 0xde), (0xd1, 0xe5, 0xf0), (0xf7, 0xf7, 0xf7),
        (0xfd, 0xdb, 0xc7), (0xf4, 0xa5, 0x82), (0xd6, 0x60, 0x4d), (0xb2, 0x18, 0x2b), (0x67, 0x00, 0x1f),
    ];

    /// <summary>
    /// The cosine similarity of every pair of rows, <c>(n, n)</c> row-major: rows normalised to unit length,
    /// then R·Rᵀ (for positions, the normalised <c>wpe · wpeᵀ</c>). A zero row has similarity 0 with everything.
    /// </summary>
    /// <example><code>double[] cos = HeatmapPlot.CosineSimilarity(wpe, blockSize, C);</code></example>
    /// <exception cref="ArgumentException">The matrix is not n × d.</exception>
    public static double[] CosineSimilarity(ReadOnlySpan<float> rows, int n, int d)
    {
        if (rows.Length != (long)n * d) throw new ArgumentException($"expected {n}x{d} values, got {rows.Length}", nameof(rows));
        var unit = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int j = 0; j < d; j++) norm += (double)rows[i * d + j] * rows[i * d + j];
            norm = Math.Sqrt(norm);
            for (int j = 0; j < d; j++) unit[i * d + j] = norm > 0 ? rows[i * d + j] / norm : 0;
        }
        var cosine = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                cosine[i * n + j] = TensorPrimitives.Dot(new ReadOnlySpan<double>(unit, i * d, d),
                    new ReadOnlySpan<double>(unit, j * d, d));
            }
        }
        return cosine;
    }

    /// <summary>
    /// Renders the heatmap of <paramref name="values"/>, <c>(rows, columns)</c> row-major. Every cell is one
    /// rect (about 150 bytes), so keep it to a few hundred rows: GPT-2's 1,024 positions would make 150 MB.
    /// </summary>
    /// <example><code>string svg = HeatmapPlot.Render(words, words, HeatmapPlot.CosineSimilarity(m, n, d));</code></example>
    /// <exception cref="ArgumentException">The label counts and the matrix disagree, or Min ≥ Max.</exception>
    public static string Render(IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, ReadOnlySpan<double> values,
        HeatmapOptions? options = null)
    {
        options ??= new HeatmapOptions();
        int rows = rowLabels.Count, columns = columnLabels.Count;
        if (values.Length != rows * columns) throw new ArgumentException($"{rows} x {columns} labels need {rows * columns} values, got " +
            $"{values.Length}", nameof(values));
        var (min, max, diverging) = ScaleOf(values);
        (min, max) = (options.Min ?? min, options.Max ?? max);
        if (!(min < max)) throw new ArgumentException($"Min ({min}) must be below Max ({max})", nameof(options));
        var scale = diverging ? Diverging : Sequential;
        bool written = options.Values ?? (rows <= MaxRowsWithValues && columns <= MaxRowsWithValues);

        double cell = options.CellSize ?? Math.Clamp(640.0 / Math.Max(1, Math.Max(rows, columns)), 1, 32);
        double font = Math.Min(options.FontSize, Math.Max(cell - 1, 7));
        // Thin labels so neighbours never overlap: every step-th row / column gets one.
        int step = (int)Math.Ceiling((font + 2) / cell);
        double rowLabelWidth = rowLabels.Where((_, i) => i % step == 0).Select(l => Svg.TextWidth(l, font)).DefaultIfEmpty(0).Max();
        double columnLabelWidth = columnLabels.Where((_, i) => i % step == 0).Select(l => Svg.TextWidth(l, font)).DefaultIfEmpty(0).Max();

        double top = Margin + (options.Title is null ? 0 : 26) + (options.Subtitle is null ? 0 : 18);
        double gridTop = top + columnLabelWidth * 0.71 + font + 8; // labels slant at 45°
        double gridLeft = Margin + rowLabelWidth + 8;
        double gridRight = gridLeft + columns * cell, gridBottom = gridTop + rows * cell;
        double barLeft = Math.Max(gridRight + columnLabelWidth * 0.71, gridRight) + 24;
        // Wide enough for the heading too (bold text runs about 8 % wider than TextWidth's estimate).
        double headingWidth = Math.Max(options.Title is null ? 0 : Svg.TextWidth(options.Title, 18) * 1.08, options.Subtitle is null ? 0
            : Svg.TextWidth(options.Subtitle, 12));
        double width = Math.Max(barLeft + 16 + 40 + 22, Margin + headingWidth) + Margin;
        double height = Math.Max(gridBottom, top + 200) + Margin;

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Svg.N(width)}\" height=\"{Svg.N(height)}\" viewBox=\"0 0 " +
            $"{Svg.N(width)} {Svg.N(height)}\" font-family=\"{Svg.Font}\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        ScatterPlot.Header(svg, options.Title, options.Subtitle, Margin);

        svg.Append("<g class=\"cells\" shape-rendering=\"crispEdges\">\n");
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                double v = values[r * columns + c];
                svg.Append($"<rect class=\"cell\" x=\"{Svg.N(gridLeft + c * cell)}\" y=\"{Svg.N(gridTop + r * cell)}\" " +
                    $"width=\"{Svg.N(cell)}\" height=\"{Svg.N(cell)}\" ");
                svg.Append($"fill=\"{Colour(scale, v, min, max)}\" data-value=\"{v.ToString("R", CultureInfo.InvariantCulture)}\">");
                svg.Append($"<title>{Svg.Escape(rowLabels[r], true)} · {Svg.Escape(columnLabels[c], true)}: " +
                    $"{v.ToString("0.###", CultureInfo.InvariantCulture)}</title></rect>\n");
            }
        }
        svg.Append("</g>\n");
        if (written) CellValues(svg, values, rows, columns, gridLeft, gridTop, cell, scale, min, max);

        svg.Append($"<g class=\"row-labels\" font-size=\"{Svg.N(font)}\" fill=\"#222\" text-anchor=\"end\">\n");
        for (int r = 0; r < rows; r += step)
        {
            svg.Append($"<text x=\"{Svg.N(gridLeft - 4)}\" " +
                $"y=\"{Svg.N(gridTop + (r + 0.5) * cell + font * 0.35)}\">{Svg.Escape(rowLabels[r], true)}</text>\n");
        }
        svg.Append("</g>\n");
        svg.Append($"<g class=\"column-labels\" font-size=\"{Svg.N(font)}\" fill=\"#222\">\n");
        for (int c = 0; c < columns; c += step)
        {
            double x = gridLeft + (c + 0.5) * cell + font * 0.3, y = gridTop - 4;
            svg.Append($"<text x=\"{Svg.N(x)}\" y=\"{Svg.N(y)}\" transform=\"rotate(-45 {Svg.N(x)} " +
                $"{Svg.N(y)})\">{Svg.Escape(columnLabels[c], true)}</text>\n");
        }
        svg.Append("</g>\n");

        ColourBar(svg, barLeft, gridTop, Math.Max(rows * cell, 160), scale, min, max, options.ValueName);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Renders the heatmap and writes it to <paramref name="path"/> atomically.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(string path, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, ReadOnlySpan<double> values,
        HeatmapOptions? options = null) =>
        AtomicFile.WriteAllText(path, Render(rowLabels, columnLabels, values, options));

    /// <summary>
    /// The colour scale the values ask for: from their minimum to their maximum (sequential) when all are on one side
    /// of 0, else symmetric around 0, ±(largest magnitude) (diverging), so 0 is white and equal magnitudes look alike.
    /// Non-finite values are left out; no finite values (or one value) give a unit range around it.
    /// </summary>
    public static (double Min, double Max, bool Diverging) ScaleOf(ReadOnlySpan<double> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        if (min > max) return (-1, 1, true);
        if (min < 0 && max > 0)
        {
            double m = Math.Max(-min, max);
            return (-m, m, true);
        }
        if (min == max) return (min - 0.5, max + 0.5, false);
        return (min, max, false);
    }

    /// <summary>Each cell's value (two decimals) in its middle, dark on light cells and white on dark ones.</summary>
    static void CellValues(StringBuilder svg, ReadOnlySpan<double> values, int rows, int columns, double left, double top, double cell,
        (byte R, byte G, byte B)[] scale, double min, double max)
    {
        double font = Math.Min(11, cell * 0.34);
        svg.Append($"<g class=\"values\" font-size=\"{Svg.N(font)}\" text-anchor=\"middle\" pointer-events=\"none\">\n");
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                double v = values[r * columns + c];
                var (red, green, blue) = Rgb(scale, v, min, max);
                // Relative luminance (Rec. 709 weights): white text once the cell is darker than the middle.
                string ink = 0.2126 * red + 0.7152 * green + 0.0722 * blue < 140 ? "white" : "#222";
                // A value that rounds to 0 prints as 0.00, not -0.00.
                string text = double.IsFinite(v) ? (Math.Abs(v) < 0.005 ? 0 : v).ToString("0.00", CultureInfo.InvariantCulture) : "";
                double x = left + (c + 0.5) * cell, y = top + (r + 0.5) * cell + font * 0.35;
                svg.Append($"<text x=\"{Svg.N(x)}\" y=\"{Svg.N(y)}\" fill=\"{ink}\">{text}</text>\n");
            }
        }
        svg.Append("</g>\n");
    }

    static void ColourBar(StringBuilder svg, double left, double top, double height, (byte R, byte G, byte B)[] scale,
        double min, double max, string valueName)
    {
        const double width = 16;
        svg.Append("<defs><linearGradient id=\"colour-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
        for (int s = 0; s < scale.Length; s++)
        {
            var (r, g, b) = scale[s];
            svg.Append($"<stop offset=\"{Svg.N((double)s / (scale.Length - 1))}\" stop-color=\"#{r:x2}{g:x2}{b:x2}\"/>");
        }
        svg.Append("</linearGradient></defs>\n");
        svg.Append($"<g class=\"colour-bar\" font-size=\"11\" fill=\"#222\">\n");
        svg.Append($"<rect x=\"{Svg.N(left)}\" y=\"{Svg.N(top)}\" width=\"{width}\" height=\"{Svg.N(height)}\" " +
            "fill=\"url(#colour-scale)\" stroke=\"#999\" stroke-width=\"0.5\"/>\n");
        for (int t = 0; t <= 4; t++)
        {
            double value = max - t * (max - min) / 4, y = top + t * height / 4;
            svg.Append($"<line x1=\"{Svg.N(left + width)}\" y1=\"{Svg.N(y)}\" x2=\"{Svg.N(left + width + 4)}\" y2=\"{Svg.N(y)}\" " +
                "stroke=\"#444\"/>");
            svg.Append($"<text x=\"{Svg.N(left + width + 6)}\" " +
                $"y=\"{Svg.N(y + 4)}\">{value.ToString("0.##", CultureInfo.InvariantCulture)}</text>\n");
        }
        double labelX = left + width + 50, labelY = top + height / 2;
        svg.Append($"<text x=\"{Svg.N(labelX)}\" y=\"{Svg.N(labelY)}\" text-anchor=\"middle\" transform=\"rotate(-90 {Svg.N(labelX)} " +
            $"{Svg.N(labelY)})\">{Svg.Escape(valueName)}</text>\n");
        svg.Append("</g>\n");
    }

    /// <summary>The colour of <paramref name="value"/> on <paramref name="scale"/> from min to max (NaN: the middle).</summary>
    internal static string Colour((byte R, byte G, byte B)[] scale, double value, double min, double max)
    {
        var (r, g, b) = Rgb(scale, value, min, max);
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    static (int R, int G, int B) Rgb((byte R, byte G, byte B)[] scale, double value, double min, double max)
    {
        double t = double.IsNaN(value) ? 0.5 * (scale.Length - 1) : Math.Clamp((value - min) / (max - min), 0, 1) * (scale.Length - 1);
        int lo = Math.Min((int)t, scale.Length - 2);
        double f = t - lo;
        var (r0, g0, b0) = scale[lo];
        var (r1, g1, b1) = scale[lo + 1];
        return ((int)Math.Round(r0 + f * (r1 - r0)), (int)Math.Round(g0 + f * (g1 - g0)), (int)Math.Round(b0 + f * (b1 - b0)));
    }
}
