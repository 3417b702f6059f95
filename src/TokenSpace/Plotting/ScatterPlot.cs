using System.Text;
using TokenSpace.IO;

namespace TokenSpace.Plotting;

/// <summary>The data rectangle a map shows; frames of one animation share it so points do not jump.</summary>
public readonly record struct Extent(double MinX, double MinY, double MaxX, double MaxY)
{
    /// <summary>The bounding box of 2-D points <c>(n, 2)</c>, or the unit square around the origin when there are none.</summary>
    public static Extent Of(ReadOnlySpan<double> xy)
    {
        if (xy.Length < 2) return new Extent(-1, -1, 1, 1);
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity,
            maxY = double.NegativeInfinity;
        for (int t = 0; t + 1 < xy.Length; t += 2)
        {
            minX = Math.Min(minX, xy[t]);
            maxX = Math.Max(maxX, xy[t]);
            minY = Math.Min(minY, xy[t + 1]);
            maxY = Math.Max(maxY, xy[t + 1]);
        }
        return new Extent(minX, minY, maxX, maxY);
    }

    /// <summary>The smallest extent holding both.</summary>
    public Extent Union(Extent other) =>
        new(Math.Min(MinX, other.MinX), Math.Min(MinY, other.MinY), Math.Max(MaxX, other.MaxX), Math.Max(MaxY, other.MaxY));
}

/// <summary>How a scatter map looks.</summary>
public sealed record ScatterOptions
{
    /// <summary>Heading at the top; null for none.</summary>
    public string? Title { get; init; }

    /// <summary>A grey line under the title (method, counts); null for none.</summary>
    public string? Subtitle { get; init; }

    /// <summary>Canvas width in px.</summary>
    public int Width { get; init; } = 960;

    /// <summary>Canvas height in px.</summary>
    public int Height { get; init; } = 720;

    /// <summary>Draw the keys as labels (those that fit without overlapping); every point keeps a hover tooltip either way.</summary>
    public bool Labels { get; init; } = true;

    /// <summary>Label at most this many points, the first ones in input order (put the most important first).</summary>
    public int MaxLabels { get; init; } = int.MaxValue;

    /// <summary>Per point, the name of its group (coloured and listed in the legend) or null; null for one colour.</summary>
    public IReadOnlyList<string?>? Groups { get; init; }

    /// <summary>Label font size in px.</summary>
    public double FontSize { get; init; } = 11;

    /// <summary>Point radius in px; null sizes points by count (4 px up to 200 points, 3 up to 1,000, else 2).</summary>
    public double? PointRadius { get; init; }

    /// <summary>
    /// Whether a label may not cover any point; null: only up to 1,000 points. In a denser map only labels and
    /// labelled points block labels, else the crowded middle, where the most frequent words sit, would get none.
    /// </summary>
    public bool? LabelsAvoidPoints { get; init; }

    /// <summary>The data rectangle to show; null fits the points.</summary>
    public Extent? Extent { get; init; }

    /// <summary>Name of the horizontal axis (<c>PC1 34.8 %</c>, <c>t-SNE 1</c>), written under the map; null for none.</summary>
    public string? XAxis { get; init; }

    /// <summary>Name of the vertical axis, written up the left side; null for none.</summary>
    public string? YAxis { get; init; }
}

/// <summary>A rendered scatter map.</summary>
/// <param name="Svg">The SVG document.</param>
/// <param name="LabelsPlaced">Labels drawn.</param>
/// <param name="LabelsDropped">Labels left out because every candidate position overlapped something.</param>
public sealed record ScatterMap(string Svg, int LabelsPlaced, int LabelsDropped);

/// <summary>
/// SVG scatter maps of 2-D projections: one circle per point (class <c>point</c>, a <c>&lt;title&gt;</c>
/// tooltip with its key), labels (class <c>label</c>) placed greedily in input order at the first of eight
/// positions around the point that overlaps no earlier label, no point and not the legend, colour groups with a
/// legend in a margin of its own (one colour per group name in every picture: <see cref="Svg.GroupColours"/>),
/// and the axes named (no ticks: a projection's coordinates have no unit).
/// </summary>
public static class ScatterPlot
{
    const double Margin = 16;

    /// <summary>Renders the map.</summary>
    /// <example><code>var map = ScatterPlot.Render(keys, pca.Coordinates, new ScatterOptions { Title = "GloVe, PCA" });</code></example>
    /// <param name="keys">One key per point, <c>(n)</c>.</param>
    /// <param name="xy">The points, <c>(n, 2)</c> row-major.</param>
    /// <param name="options">Appearance; null for the defaults.</param>
    /// <exception cref="ArgumentException">The sizes of keys, points and groups disagree, or a coordinate is not finite.</exception>
    public static ScatterMap Render(IReadOnlyList<string> keys, ReadOnlySpan<double> xy, ScatterOptions? options = null)
    {
        options ??= new ScatterOptions();
        int n = keys.Count;
        if (xy.Length != 2 * n) throw new ArgumentException($"{n} keys need {2 * n} coordinates, got {xy.Length}", nameof(xy));
        if (options.Groups is { } g && g.Count != n) throw new ArgumentException($"{n} points need {n} groups, got {g.Count}",
            nameof(options));
        foreach (double v in xy)
        {
            if (!double.IsFinite(v)) throw new ArgumentException("coordinates must be finite", nameof(xy));
        }

        double radius = options.PointRadius ?? (n <= 200 ? 4 : n <= 1000 ? 3 : 2);
        var svg = new StringBuilder();
        double top = Margin + (options.Title is null ? 0 : 26) + (options.Subtitle is null ? 0 : 18);
        var groups = GroupColours(options.Groups, n);
        double legendWidth = groups.Width;
        // The plot box: the legend has its own margin on the right, the axis names theirs below and on the left.
        double boxLeft = Margin + (options.YAxis is null ? 0 : AxisSpace), boxRight = options.Width - Margin - legendWidth;
        double boxBottom = options.Height - Margin - (options.XAxis is null ? 0 : AxisSpace);
        var frame = Frame.Fit(options.Extent ?? Extent.Of(xy), boxLeft + 8, top + 8, boxRight - 8, boxBottom - 8);

        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{options.Width}\" height=\"{options.Height}\" viewBox=\"0 0 " +
            $"{options.Width} {options.Height}\" font-family=\"{Svg.Font}\">\n");
        svg.Append($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        Header(svg, options.Title, options.Subtitle, Margin);
        Axes(svg, options.XAxis, options.YAxis, boxLeft, top, boxRight, boxBottom);

        svg.Append("<g class=\"points\" stroke=\"white\" stroke-width=\"0.6\">\n");
        var screen = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            (screen[2 * i], screen[2 * i + 1]) = frame.Map(xy[2 * i], xy[2 * i + 1]);
            svg.Append($"<circle class=\"point\" cx=\"{Svg.N(screen[2 * i])}\" cy=\"{Svg.N(screen[2 * i + 1])}\" r=\"{Svg.N(radius)}\" " +
                $"fill=\"{groups.Colours[i]}\">");
            svg.Append($"<title>{Svg.Escape(keys[i], visibleWhitespace: true)}</title></circle>\n");
        }
        svg.Append("</g>\n");

        int placed = 0, dropped = 0;
        if (options.Labels)
        {
            var placer = new LabelPlacer(options.Width, options.Height, top, screen, radius, options.LabelsAvoidPoints ?? n <= 1000);
            placer.Block(groups.Box(boxRight + 8, top));
            svg.Append($"<g class=\"labels\" font-size=\"{Svg.N(options.FontSize)}\" fill=\"#222\" stroke=\"white\" stroke-width=\"3\" " +
                "stroke-linejoin=\"round\" paint-order=\"stroke\">\n");
            for (int i = 0; i < Math.Min(n, options.MaxLabels); i++)
            {
                string text = Svg.Escape(keys[i], visibleWhitespace: true);
                if (placer.TryPlace(i, Svg.TextWidth(keys[i], options.FontSize), options.FontSize, out double x, out double y))
                {
                    svg.Append($"<text class=\"label\" x=\"{Svg.N(x)}\" y=\"{Svg.N(y)}\">{text}</text>\n");
                    placed++;
                }
                else
                {
                    dropped++;
                }
            }
            svg.Append("</g>\n");
        }

        Legend(svg, groups, boxRight + 8, top);
        svg.Append("</svg>\n");
        return new ScatterMap(svg.ToString(), placed, dropped);
    }

    /// <summary>Renders the map and writes it to <paramref name="path"/> atomically.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static ScatterMap Write(string path, IReadOnlyList<string> keys, ReadOnlySpan<double> xy, ScatterOptions? options = null)
    {
        var map = Render(keys, xy, options);
        AtomicFile.WriteAllText(path, map.Svg);
        return map;
    }

    internal static void Header(StringBuilder svg, string? title, string? subtitle, double left)
    {
        double y = Margin;
        if (title is not null)
        {
            y += 18;
            svg.Append($"<text class=\"title\" x=\"{Svg.N(left)}\" y=\"{Svg.N(y)}\" font-size=\"18\" font-weight=\"bold\" " +
                $"fill=\"#222\">{Svg.Escape(title)}</text>\n");
            y += 8;
        }
        if (subtitle is not null)
        {
            y += 14;
            svg.Append($"<text class=\"subtitle\" x=\"{Svg.N(left)}\" y=\"{Svg.N(y)}\" font-size=\"12\" " +
                $"fill=\"#666\">{Svg.Escape(subtitle)}</text>\n");
        }
    }

    /// <summary>Room for an axis name beside the plot box, in px.</summary>
    internal const double AxisSpace = 20;

    /// <summary>A light frame around the plot box and the axes' names: under it, centred, and up its left side.</summary>
    internal static void Axes(StringBuilder svg, string? x, string? y, double left, double top, double right, double bottom)
    {
        if (x is null && y is null) return;
        svg.Append($"<g class=\"axes\" font-size=\"12\" fill=\"#555\">\n");
        svg.Append($"<rect x=\"{Svg.N(left)}\" y=\"{Svg.N(top)}\" width=\"{Svg.N(right - left)}\" height=\"{Svg.N(bottom - top)}\" ");
        svg.Append("fill=\"none\" stroke=\"#e4e4e4\"/>\n");
        if (x is not null)
        {
            svg.Append($"<text class=\"x-axis\" x=\"{Svg.N((left + right) / 2)}\" y=\"{Svg.N(bottom + 15)}\" text-anchor=\"middle\">");
            svg.Append($"{Svg.Escape(x)}</text>\n");
        }
        if (y is not null)
        {
            double cx = left - 7, cy = (top + bottom) / 2;
            svg.Append($"<text class=\"y-axis\" x=\"{Svg.N(cx)}\" y=\"{Svg.N(cy)}\" text-anchor=\"middle\" ");
            svg.Append($"transform=\"rotate(-90 {Svg.N(cx)} {Svg.N(cy)})\">{Svg.Escape(y)}</text>\n");
        }
        svg.Append("</g>\n");
    }

    /// <summary>The groups of a map: their names in order of first appearance, the colour of each, each point's colour.</summary>
    internal sealed record Groups(IReadOnlyList<string> Names, IReadOnlyDictionary<string, string> ColourOf, string[] Colours)
    {
        /// <summary>Width of the legend's margin (0 without groups).</summary>
        public double Width => Names.Count == 0 ? 0 : Names.Max(name => Svg.TextWidth(name, 12)) + 40;

        /// <summary>The legend's rectangle when drawn at (<paramref name="x"/>, <paramref name="top"/>): labels keep out of it.</summary>
        public (double X0, double Y0, double X1, double Y1) Box(double x, double top) =>
            Names.Count == 0 ? (0, 0, 0, 0) : (x, top, x + Width, top + 10 + Names.Count * 18);
    }

    /// <summary>Each point's colour by its group (<see cref="Svg.GroupColours"/>; grey when ungrouped, blue without groups).</summary>
    internal static Groups GroupColours(IReadOnlyList<string?>? groups, int n)
    {
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            if (groups?[i] is { Length: > 0 } group && seen.Add(group)) names.Add(group);
        }
        var colourOf = Svg.GroupColours(names);
        var colours = new string[n];
        for (int i = 0; i < n; i++)
        {
            colours[i] = groups?[i] is { Length: > 0 } group ? colourOf[group] : groups is null ? Svg.Palette[0] : Svg.Ungrouped;
        }
        return new Groups(names, colourOf, colours);
    }

    internal static void Legend(StringBuilder svg, Groups groups, double x, double top)
    {
        if (groups.Names.Count == 0) return;
        svg.Append($"<g class=\"legend\" font-size=\"12\" fill=\"#222\">\n");
        for (int g = 0; g < groups.Names.Count; g++)
        {
            double y = top + 10 + g * 18;
            svg.Append($"<circle cx=\"{Svg.N(x + 6)}\" cy=\"{Svg.N(y)}\" r=\"5\" fill=\"{groups.ColourOf[groups.Names[g]]}\"/>");
            svg.Append($"<text x=\"{Svg.N(x + 16)}\" y=\"{Svg.N(y + 4)}\">{Svg.Escape(groups.Names[g])}</text>\n");
        }
        svg.Append("</g>\n");
    }

    /// <summary>Data to screen: one scale for both axes (distances keep their meaning), y pointing up, centred in the box.</summary>
    internal readonly record struct Frame(double Scale, double OffsetX, double OffsetY)
    {
        public static Frame Fit(Extent extent, double left, double top, double right, double bottom)
        {
            double spanX = Math.Max(extent.MaxX - extent.MinX, 1e-12), spanY = Math.Max(extent.MaxY - extent.MinY, 1e-12);
            double scale = Math.Min((right - left) / spanX, (bottom - top) / spanY);
            double offsetX = (left + right) / 2 - scale * (extent.MinX + extent.MaxX) / 2;
            double offsetY = (top + bottom) / 2 + scale * (extent.MinY + extent.MaxY) / 2;
            return new Frame(scale, offsetX, offsetY);
        }

        public (double X, double Y) Map(double x, double y) => (OffsetX + Scale * x, OffsetY - Scale * y);
    }
}
