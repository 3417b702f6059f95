using System.Globalization;
using System.Text;
using TokenSpace.Formats;
using TokenSpace.IO;

namespace TokenSpace.Plotting;

/// <summary>One line of a panel: y over x; a null y leaves a gap.</summary>
public sealed record LineSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double?> Y);

/// <summary>One small chart of a grid: its own y axis, shared x axis. Null bounds fit the data.</summary>
public sealed record LinePanel(string Title, IReadOnlyList<LineSeries> Series, double? YMin = null, double? YMax = null);

/// <summary>How a line chart looks.</summary>
public sealed record LineChartOptions
{
    /// <summary>Heading at the top; null for none.</summary>
    public string? Title { get; init; }

    /// <summary>A grey line under the title; null for none.</summary>
    public string? Subtitle { get; init; }

    /// <summary>Name of the x axis, under the bottom panels.</summary>
    public string XLabel { get; init; } = "step";

    /// <summary>Panels per row.</summary>
    public int Columns { get; init; } = 3;

    /// <summary>Size of a panel's plotting area in px.</summary>
    public double PanelWidth { get; init; } = 260;

    /// <summary>Height of a panel's plotting area in px.</summary>
    public double PanelHeight { get; init; } = 150;
}

/// <summary>
/// SVG line charts as small multiples: a grid of panels, each with its own y axis and title, all over the
/// same x range, series in the same colour in every panel and one legend at the top. A point is a circle
/// (class <c>point</c>, its value in <c>data-y</c> and a tooltip) on a polyline per series.
/// </summary>
public static class LineChart
{
    const double Margin = 16, AxisLeft = 46, TitleHeight = 22, AxisBottom = 26, Gap = 18;
    static readonly double[] Multiples = [1, 2, 5, 10];

    /// <summary>Renders <paramref name="panels"/> as one SVG document.</summary>
    /// <example><code>string svg = LineChart.Render([new LinePanel("loss", [new LineSeries("train", steps, losses)])]);</code></example>
    /// <exception cref="ArgumentException">No panels, or a series whose x and y differ in length.</exception>
    public static string Render(IReadOnlyList<LinePanel> panels, LineChartOptions? options = null)
    {
        options ??= new LineChartOptions();
        if (panels.Count == 0) throw new ArgumentException("a line chart needs at least one panel", nameof(panels));
        foreach (var s in panels.SelectMany(p => p.Series))
        {
            if (s.X.Count != s.Y.Count) throw new ArgumentException($"series '{s.Name}' has {s.X.Count} x values and {s.Y.Count} y values",
                nameof(panels));
        }
        var names = panels.SelectMany(p => p.Series).Select(s => s.Name).Distinct().ToList();
        var xs = panels.SelectMany(p => p.Series).SelectMany(s => s.X).DefaultIfEmpty(0).ToList();
        var (xMin, xMax) = Range(xs.Min(), xs.Max());
        int columns = Math.Max(1, Math.Min(options.Columns, panels.Count)), rows = (panels.Count + columns - 1) / columns;
        double cellWidth = AxisLeft + options.PanelWidth + Gap, cellHeight = TitleHeight + options.PanelHeight + AxisBottom + Gap;
        double top = Margin + (options.Title is null ? 0 : 26) + (options.Subtitle is null ? 0 : 18) + 34;
        double headingWidth = Math.Max(options.Title is null ? 0 : Svg.TextWidth(options.Title, 18) * 1.08, options.Subtitle is null ? 0
            : Svg.TextWidth(options.Subtitle, 12));
        double width = Math.Max(Margin + columns * cellWidth, Margin + headingWidth) + Margin;
        double height = top + rows * cellHeight + 16 + Margin;

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Svg.N(width)}\" height=\"{Svg.N(height)}\" viewBox=\"0 0 " +
            $"{Svg.N(width)} {Svg.N(height)}\" font-family=\"{Svg.Font}\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        ScatterPlot.Header(svg, options.Title, options.Subtitle, Margin);
        Legend(svg, names, Margin, top - 14);
        for (int p = 0; p < panels.Count; p++)
        {
            double left = Margin + p % columns * cellWidth + AxisLeft, panelTop = top + p / columns * cellHeight + TitleHeight;
            Panel(svg, panels[p], names, left, panelTop, options, xMin, xMax);
        }
        svg.Append($"<text x=\"{Svg.N(width / 2)}\" y=\"{Svg.N(height - Margin)}\" font-size=\"12\" fill=\"#444\" " +
            $"text-anchor=\"middle\">{Svg.Escape(options.XLabel)}</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Renders the chart and writes it to <paramref name="path"/> atomically.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(string path, IReadOnlyList<LinePanel> panels, LineChartOptions? options = null) =>
        AtomicFile.WriteAllText(path, Render(panels, options));

    static void Legend(StringBuilder svg, List<string> names, double left, double y)
    {
        svg.Append("<g class=\"legend\" font-size=\"12\" fill=\"#222\">\n");
        double x = left;
        for (int s = 0; s < names.Count; s++)
        {
            svg.Append($"<line x1=\"{Svg.N(x)}\" y1=\"{Svg.N(y - 4)}\" x2=\"{Svg.N(x + 18)}\" y2=\"{Svg.N(y - 4)}\" " +
                $"stroke=\"{Colour(s)}\" stroke-width=\"2.5\"/>");
            svg.Append($"<text x=\"{Svg.N(x + 23)}\" y=\"{Svg.N(y)}\">{Svg.Escape(names[s])}</text>\n");
            x += 23 + Svg.TextWidth(names[s], 12) + 18;
        }
        svg.Append("</g>\n");
    }

    static void Panel(StringBuilder svg, LinePanel panel, List<string> names, double left, double top, LineChartOptions o, double xMin,
        double xMax)
    {
        double w = o.PanelWidth, h = o.PanelHeight;
        var ys = panel.Series.SelectMany(s => s.Y).OfType<double>().Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        var (yMin, yMax) = Range(panel.YMin ?? ys.Min(), panel.YMax ?? ys.Max());
        double X(double x) => left + (x - xMin) / (xMax - xMin) * w;
        double Y(double y) => top + h - (y - yMin) / (yMax - yMin) * h;

        svg.Append("<g class=\"panel\">\n");
        svg.Append($"<text class=\"panel-title\" x=\"{Svg.N(left)}\" y=\"{Svg.N(top - 8)}\" font-size=\"13\" font-weight=\"bold\" " +
            $"fill=\"#222\">{Svg.Escape(panel.Title)}</text>\n");
        svg.Append($"<rect x=\"{Svg.N(left)}\" y=\"{Svg.N(top)}\" width=\"{Svg.N(w)}\" height=\"{Svg.N(h)}\" fill=\"none\" " +
            "stroke=\"#bbb\"/>\n");
        svg.Append("<g font-size=\"10\" fill=\"#444\">\n");
        foreach (double t in Ticks(yMin, yMax))
        {
            svg.Append($"<line x1=\"{Svg.N(left)}\" y1=\"{Svg.N(Y(t))}\" x2=\"{Svg.N(left + w)}\" y2=\"{Svg.N(Y(t))}\" stroke=\"#eee\"/>");
            svg.Append($"<text x=\"{Svg.N(left - 4)}\" y=\"{Svg.N(Y(t) + 3.5)}\" text-anchor=\"end\">{Label(t)}</text>\n");
        }
        foreach (double t in Ticks(xMin, xMax))
        {
            svg.Append($"<line x1=\"{Svg.N(X(t))}\" y1=\"{Svg.N(top + h)}\" x2=\"{Svg.N(X(t))}\" y2=\"{Svg.N(top + h + 4)}\" " +
                "stroke=\"#444\"/>");
            svg.Append($"<text x=\"{Svg.N(X(t))}\" y=\"{Svg.N(top + h + 15)}\" text-anchor=\"middle\">{Label(t)}</text>\n");
        }
        svg.Append("</g>\n");
        foreach (var series in panel.Series)
        {
            string colour = Colour(names.IndexOf(series.Name));
            var points = series.X.Zip(series.Y).Where(p => p.Second is { } y
                && double.IsFinite(y)).Select(p => (X: p.First, Y: p.Second!.Value)).ToList();
            svg.Append($"<g class=\"series\" data-name=\"{Svg.Escape(series.Name)}\" fill=\"{colour}\">\n");
            if (points.Count > 1)
            {
                string line = string.Join(" ", points.Select(p => $"{Svg.N(X(p.X))},{Svg.N(Y(p.Y))}"));
                svg.Append($"<polyline points=\"{line}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>\n");
            }
            foreach (var (x, y) in points)
            {
                svg.Append($"<circle class=\"point\" cx=\"{Svg.N(X(x))}\" cy=\"{Svg.N(Y(y))}\" r=\"2.5\" " +
                    $"data-y=\"{y.ToString("R", CultureInfo.InvariantCulture)}\">");
                svg.Append($"<title>{Svg.Escape(series.Name)} at {Label(x)}: " +
                    $"{y.ToString("0.####", CultureInfo.InvariantCulture)}</title></circle>\n");
            }
            svg.Append("</g>\n");
        }
        svg.Append("</g>\n");
    }

    static string Colour(int series) => Svg.Palette[series % Svg.Palette.Length];

    /// <summary>A range with room: a single value gets ±1 (or ±10 % of itself).</summary>
    static (double Min, double Max) Range(double min, double max)
    {
        if (max > min) return (min, max);
        double pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
        return (min - pad, max + pad);
    }

    /// <summary>About five round ticks (1, 2 or 5 times a power of ten) inside [min, max].</summary>
    static IEnumerable<double> Ticks(double min, double max)
    {
        double raw = (max - min) / 5, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = Multiples.Select(m => m * power).First(s => s >= raw);
        for (double t = Math.Ceiling(min / step) * step; t <= max + step * 1e-9; t += step) yield return Math.Abs(t) < step * 1e-9 ? 0 : t;
    }

    static string Label(double value) => value.ToString(Math.Abs(value) >= 1000 ? "#,0" : "0.###", CultureInfo.InvariantCulture);
}
