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
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
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
}

/// <summary>A rendered scatter map.</summary>
/// <param name="Svg">The SVG document.</param>
/// <param name="LabelsPlaced">Labels drawn.</param>
/// <param name="LabelsDropped">Labels left out because every candidate position overlapped something.</param>
public sealed record ScatterMap(string Svg, int LabelsPlaced, int LabelsDropped);

/// <summary>
/// SVG scatter maps of 2-D projections: one circle per point (class <c>point</c>, a <c>&lt;title&gt;</c>
/// tooltip with its key), labels (class <c>label</c>) placed greedily in input order at the first of eight
/// positions around the point that overlaps no earlier label and no point, colour groups with a legend.
/// No axes: a projection's axes mean nothing.
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
        if (options.Groups is { } g && g.Count != n) throw new ArgumentException($"{n} points need {n} groups, got {g.Count}", nameof(options));
        foreach (double v in xy)
        {
            if (!double.IsFinite(v)) throw new ArgumentException("coordinates must be finite", nameof(xy));
        }

        double radius = options.PointRadius ?? (n <= 200 ? 4 : n <= 1000 ? 3 : 2);
        var svg = new StringBuilder();
        double top = Margin + (options.Title is null ? 0 : 26) + (options.Subtitle is null ? 0 : 18);
        var (groupNames, colours) = GroupColours(options.Groups, n);
        double legendWidth = groupNames.Count == 0 ? 0 : groupNames.Max(name => Svg.TextWidth(name, 12)) + 40;
        var frame = Frame.Fit(options.Extent ?? Extent.Of(xy), Margin + 8, top + 8, options.Width - Margin - 8 - legendWidth, options.Height - Margin - 8);

        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{options.Width}\" height=\"{options.Height}\" viewBox=\"0 0 {options.Width} {options.Height}\" font-family=\"{Svg.Font}\">\n");
        svg.Append($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        Header(svg, options.Title, options.Subtitle, Margin);

        svg.Append("<g class=\"points\" stroke=\"white\" stroke-width=\"0.6\">\n");
        var screen = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            (screen[2 * i], screen[2 * i + 1]) = frame.Map(xy[2 * i], xy[2 * i + 1]);
            svg.Append($"<circle class=\"point\" cx=\"{Svg.N(screen[2 * i])}\" cy=\"{Svg.N(screen[2 * i + 1])}\" r=\"{Svg.N(radius)}\" fill=\"{colours[i]}\">");
            svg.Append($"<title>{Svg.Escape(keys[i], visibleWhitespace: true)}</title></circle>\n");
        }
        svg.Append("</g>\n");

        int placed = 0, dropped = 0;
        if (options.Labels)
        {
            var placer = new LabelPlacer(options.Width, options.Height, top, screen, radius, options.LabelsAvoidPoints ?? n <= 1000);
            svg.Append($"<g class=\"labels\" font-size=\"{Svg.N(options.FontSize)}\" fill=\"#222\" stroke=\"white\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">\n");
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

        Legend(svg, groupNames, options.Width - Margin - legendWidth + 8, top);
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
            svg.Append($"<text class=\"title\" x=\"{Svg.N(left)}\" y=\"{Svg.N(y)}\" font-size=\"18\" font-weight=\"bold\" fill=\"#222\">{Svg.Escape(title)}</text>\n");
            y += 8;
        }
        if (subtitle is not null)
        {
            y += 14;
            svg.Append($"<text class=\"subtitle\" x=\"{Svg.N(left)}\" y=\"{Svg.N(y)}\" font-size=\"12\" fill=\"#666\">{Svg.Escape(subtitle)}</text>\n");
        }
    }

    /// <summary>Group names in order of first appearance and each point's colour (grey when ungrouped).</summary>
    internal static (List<string> Names, string[] Colours) GroupColours(IReadOnlyList<string?>? groups, int n)
    {
        var names = new List<string>();
        var colours = new string[n];
        var index = new Dictionary<string, int>();
        for (int i = 0; i < n; i++)
        {
            string? group = groups?[i];
            if (string.IsNullOrEmpty(group))
            {
                colours[i] = groups is null ? Svg.Palette[0] : Svg.Ungrouped;
                continue;
            }
            if (!index.TryGetValue(group, out int at))
            {
                at = names.Count;
                index[group] = at;
                names.Add(group);
            }
            // More groups than colours: the colours repeat, the legend still names each group.
            colours[i] = Svg.Palette[at % Svg.Palette.Length];
        }
        return (names, colours);
    }

    internal static void Legend(StringBuilder svg, List<string> names, double x, double top)
    {
        if (names.Count == 0) return;
        svg.Append($"<g class=\"legend\" font-size=\"12\" fill=\"#222\">\n");
        for (int g = 0; g < names.Count; g++)
        {
            double y = top + 10 + g * 18;
            svg.Append($"<circle cx=\"{Svg.N(x + 6)}\" cy=\"{Svg.N(y)}\" r=\"5\" fill=\"{Svg.Palette[g % Svg.Palette.Length]}\"/>");
            svg.Append($"<text x=\"{Svg.N(x + 16)}\" y=\"{Svg.N(y + 4)}\">{Svg.Escape(names[g])}</text>\n");
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
