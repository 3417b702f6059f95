using System.Globalization;
using System.Text;
using TokenSpace.IO;
using TokenSpace.Projection;

namespace TokenSpace.Plotting;

/// <summary>One 2-D map of the embeddings at a training step.</summary>
/// <param name="Step">The training step the embeddings were saved at.</param>
/// <param name="Keys">One key per point, <c>(n)</c>; every frame of an animation has the same keys in the same order.</param>
/// <param name="Coordinates">The points, <c>(n, 2)</c> row-major.</param>
/// <param name="Loss">The training loss at that step (a snapshot's <c>train_loss</c>), or null when unknown (step 0).</param>
public sealed record MapFrame(int Step, IReadOnlyList<string> Keys, double[] Coordinates, double? Loss = null);

/// <summary>How the training page looks.</summary>
public sealed record AnimationOptions
{
    /// <summary>Heading of the page and of every frame.</summary>
    public string Title { get; init; } = "Embeddings forming during training";

    /// <summary>Per point, its group name (colour and legend) or null; null for one colour.</summary>
    public IReadOnlyList<string?>? Groups { get; init; }

    /// <summary>Map width in px.</summary>
    public int Width { get; init; } = 800;

    /// <summary>Map height in px.</summary>
    public int Height { get; init; } = 640;

    /// <summary>Label the points (labels that would overlap a point or another label are hidden in that frame).</summary>
    public bool Labels { get; init; } = true;

    /// <summary>Milliseconds the page takes to move from one frame to the next when playing.</summary>
    public int MillisecondsPerFrame { get; init; } = 700;

    /// <summary>
    /// Name of the horizontal axis (every frame is aligned to the last, so: the last frame's, <c>PC1 34.8 % (step 1,000)</c>);
    /// null for none.
    /// </summary>
    public string? XAxis { get; init; }

    /// <summary>Name of the vertical axis; null for none.</summary>
    public string? YAxis { get; init; }
}

/// <summary>
/// "Watch embeddings form": aligns the maps of successive training steps to the last one and writes one
/// self-contained HTML page (inline SVG and script, no external assets) with a step slider and a play
/// button, plus every frame as its own SVG. The page opens at the first step and plays once to the last,
/// showing each frame's step and loss; its controls keep their places while it plays.
/// </summary>
public static class TrainingAnimation
{
    /// <summary>
    /// Rotates (or reflects) every frame onto the last one by orthogonal Procrustes, then scales it to the
    /// last frame's root-mean-square spread, so the picture moves only where the embeddings really changed.
    /// Least-squares scaling would instead shrink an early, unrelated frame towards a dot.
    /// </summary>
    /// <example><code>var aligned = TrainingAnimation.AlignToLast(frames);</code></example>
    /// <exception cref="ArgumentException">No frames, or frames whose keys differ from the last frame's.</exception>
    public static MapFrame[] AlignToLast(IReadOnlyList<MapFrame> frames)
    {
        if (frames.Count == 0) throw new ArgumentException("no frames to align", nameof(frames));
        var last = frames[^1];
        int n = last.Keys.Count;
        foreach (var frame in frames)
        {
            if (frame.Coordinates.Length != 2 * n) throw new ArgumentException($"frame at step {frame.Step} has " +
                $"{frame.Coordinates.Length / 2} points, the last frame {n}", nameof(frames));
            if (!frame.Keys.SequenceEqual(last.Keys)) throw new ArgumentException($"frame at step {frame.Step} has other keys (or " +
                "another " +
                "order) than the last frame", nameof(frames));
        }
        double target = Spread(last.Coordinates);
        var aligned = new MapFrame[frames.Count];
        for (int f = 0; f < frames.Count; f++)
        {
            var result = Procrustes.Align(frames[f].Coordinates, last.Coordinates, 2, allowScale: false).Aligned;
            double spread = Spread(result);
            if (spread > 0)
            {
                var (cx, cy) = Centre(result);
                double factor = target / spread;
                for (int i = 0; i < n; i++)
                {
                    result[2 * i] = cx + (result[2 * i] - cx) * factor;
                    result[2 * i + 1] = cy + (result[2 * i + 1] - cy) * factor;
                }
            }
            aligned[f] = frames[f] with { Coordinates = result };
        }
        return aligned;
    }

    /// <summary>
    /// Aligns the frames (<see cref="AlignToLast"/>), writes the HTML page to <paramref name="htmlPath"/> and,
    /// when <paramref name="svgFolder"/> is given, each frame there as <c>step-NNNNNN.svg</c>. All writes are atomic.
    /// </summary>
    /// <exception cref="ArgumentException">The frames disagree (see <see cref="AlignToLast"/>).</exception>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public static void Write(string htmlPath, IReadOnlyList<MapFrame> frames, string? svgFolder = null, AnimationOptions? options = null)
    {
        options ??= new AnimationOptions();
        var aligned = AlignToLast(frames);
        var extent = aligned.Select(f => Extent.Of(f.Coordinates)).Aggregate((a, b) => a.Union(b));
        AtomicFile.WriteAllText(htmlPath, RenderHtml(aligned, extent, options));
        if (svgFolder is null) return;
        foreach (var frame in aligned)
        {
            ScatterPlot.Write(Path.Combine(svgFolder, $"step-{frame.Step:D6}.svg"), frame.Keys, frame.Coordinates, new ScatterOptions
            {
                Title = options.Title,
                Subtitle = $"step {frame.Step:N0}{LossText(frame.Loss)} · aligned to step {aligned[^1].Step:N0}",
                Width = options.Width,
                Height = options.Height,
                Groups = options.Groups,
                Extent = extent,
                PointRadius = 5,
                FontSize = 13,
                XAxis = options.XAxis,
                YAxis = options.YAxis,
            });
        }
    }

    /// <summary>" · loss 2.314", or "" when the frame has no loss.</summary>
    static string LossText(double? loss) => loss is { } l ? $" · loss {l.ToString("0.000", CultureInfo.InvariantCulture)}" : "";

    /// <summary>The page for frames already aligned, drawn in <paramref name="extent"/>.</summary>
    internal static string RenderHtml(IReadOnlyList<MapFrame> frames, Extent extent, AnimationOptions options)
    {
        var keys = frames[^1].Keys;
        int n = keys.Count;
        const double margin = 24, radius = 5, font = 13;
        var groups = ScatterPlot.GroupColours(options.Groups, n);
        // The plot box, as in ScatterPlot: the legend in its own margin on the right, the axis names below and on the left.
        const double edge = 8;
        double boxLeft = edge + (options.YAxis is null ? 0 : ScatterPlot.AxisSpace), boxRight = options.Width - edge - groups.Width;
        double boxBottom = options.Height - edge - (options.XAxis is null ? 0 : ScatterPlot.AxisSpace);
        double legendLeft = boxRight + 8;
        var frame = ScatterPlot.Frame.Fit(extent, boxLeft + margin, edge + margin, boxRight - margin, boxBottom - margin);

        // Per frame: the points on screen and where each label fits without overlap (null: left out in that frame).
        var screens = new double[frames.Count][];
        var placements = new double?[frames.Count][];
        for (int f = 0; f < frames.Count; f++)
        {
            var screen = new double[2 * n];
            for (int i = 0; i < n; i++) (screen[2 * i], screen[2 * i + 1]) = frame.Map(frames[f].Coordinates[2 * i],
                frames[f].Coordinates[2 * i + 1]);
            screens[f] = screen;
            var placed = new double?[2 * n];
            if (options.Labels)
            {
                var placer = new LabelPlacer(options.Width, options.Height, 0, screen, radius);
                placer.Block(groups.Box(legendLeft, edge));
                for (int i = 0; i < n; i++)
                {
                    if (placer.TryPlace(i, Svg.TextWidth(keys[i], font), font, out double x, out double y)) (placed[2 * i],
                        placed[2 * i + 1]) = (x, y);
                }
            }
            placements[f] = placed;
        }

        var data = new StringBuilder("[");
        for (int f = 0; f < frames.Count; f++)
        {
            data.Append(f == 0 ? "" : ",").Append("{\"step\":").Append(frames[f].Step);
            data.Append(",\"loss\":").Append(frames[f].Loss is { } loss ? loss.ToString("R", CultureInfo.InvariantCulture) : "null");
            data.Append(",\"xy\":[");
            data.AppendJoin(',', screens[f].Select(v => v.ToString("0.#", CultureInfo.InvariantCulture)));
            data.Append("],\"labels\":[");
            data.AppendJoin(',', placements[f].Select(v => v is { } x ? x.ToString("0.#", CultureInfo.InvariantCulture) : "null"));
            data.Append("]}");
        }
        data.Append(']');

        var html = new StringBuilder();
        string title = Svg.Escape(options.Title);
        html.Append($"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\n");
        html.Append($"body {{ font-family: {Svg.Font}; margin: 24px; color: #222; }}\n");
        html.Append("h1 { font-size: 20px; margin: 0 0 4px; } p { color: #666; margin: 0 0 12px; font-size: 13px; }\n");
        html.Append(".controls { display: flex; gap: 12px; align-items: center; margin-bottom: 8px; }\n");
        // Fixed widths: the slider must not move when the button's text or the step and loss change.
        html.Append($"#step {{ width: {Math.Max(200, options.Width - 330)}px; }}\n");
        html.Append("#label { font-variant-numeric: tabular-nums; width: 16em; white-space: nowrap; }\n");
        html.Append("button { font-size: 14px; padding: 4px 0; width: 7.5em; flex: none; } svg { border: 1px solid #eee; }\n");
        html.Append("</style>\n</head>\n<body>\n");
        html.Append($"<h1>{title}</h1>\n<p>{n} embeddings, {frames.Count} snapshots from step {frames[0].Step:N0} to " +
            $"{frames[^1].Step:N0}; each aligned to the last (orthogonal Procrustes). It plays once from the first step; drag the slider " +
            "to look at one. Labels that would overlap are hidden; hover a point for its name.</p>\n");
        html.Append($"<div class=\"controls\"><button id=\"play\" type=\"button\">▶ Play</button>");
        html.Append($"<input id=\"step\" type=\"range\" min=\"0\" max=\"{frames.Count - 1}\" value=\"{frames.Count - 1}\">");
        html.Append($"<span id=\"label\">step {frames[^1].Step:N0}{LossText(frames[^1].Loss)}</span></div>\n");

        // The static picture is the last frame, so the page shows the result even without script; the script starts at the first.
        html.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"map\" width=\"{options.Width}\" height=\"{options.Height}\" " +
            $"viewBox=\"0 0 {options.Width} {options.Height}\" font-family=\"{Svg.Font}\">\n");
        html.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        ScatterPlot.Axes(html, options.XAxis, options.YAxis, boxLeft, edge, boxRight, boxBottom);
        html.Append("<g stroke=\"white\" stroke-width=\"0.8\">\n");
        var last = screens[^1];
        for (int i = 0; i < n; i++)
        {
            html.Append($"<circle class=\"point\" cx=\"{Svg.N(last[2 * i])}\" cy=\"{Svg.N(last[2 * i + 1])}\" r=\"{radius}\" " +
                $"fill=\"{groups.Colours[i]}\"><title>{Svg.Escape(keys[i], true)}</title></circle>\n");
        }
        html.Append("</g>\n");
        if (options.Labels)
        {
            html.Append($"<g font-size=\"{font}\" fill=\"#222\" stroke=\"white\" stroke-width=\"3\" stroke-linejoin=\"round\" " +
                "paint-order=\"stroke\">\n");
            var placed = placements[^1];
            for (int i = 0; i < n; i++)
            {
                string position = placed[2 * i] is { } x ? $"x=\"{Svg.N(x)}\" y=\"{Svg.N(placed[2 * i + 1]!.Value)}\""
                    : "x=\"0\" y=\"0\" visibility=\"hidden\"";
                html.Append($"<text class=\"label\" {position}>{Svg.Escape(keys[i], true)}</text>\n");
            }
            html.Append("</g>\n");
        }
        ScatterPlot.Legend(html, groups, legendLeft, edge);
        html.Append("</svg>\n<script>\n");
        html.Append("const frames = ").Append(data).Append(";\n");
        html.Append($"const duration = {options.MillisecondsPerFrame};\n");
        html.Append(Script);
        html.Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    // Moves points between frames, interpolating while playing so the motion is visible; a label shows where
    // the nearer frame placed it, and only if it fitted there.
    const string Script = """
        const points = document.querySelectorAll('#map .point');
        const labels = document.querySelectorAll('#map .label');
        const slider = document.getElementById('step'), label = document.getElementById('label'), play = document.getElementById('play');
        function draw(a, b, t) {
          const xa = frames[a].xy, xb = frames[b].xy, near = frames[t < 0.5 ? a : b];
          for (let i = 0; i < points.length; i++) {
            const x = xa[2 * i] + (xb[2 * i] - xa[2 * i]) * t, y = xa[2 * i + 1] + (xb[2 * i + 1] - xa[2 * i + 1]) * t;
            points[i].setAttribute('cx', x); points[i].setAttribute('cy', y);
            if (!labels.length) continue;
            const lx = near.labels[2 * i], ly = near.labels[2 * i + 1];
            if (lx === null) { labels[i].setAttribute('visibility', 'hidden'); continue; }
            const n = near.xy;
            labels[i].setAttribute('visibility', 'visible');
            labels[i].setAttribute('x', lx + x - n[2 * i]); labels[i].setAttribute('y', ly + y - n[2 * i + 1]);
          }
          label.textContent = 'step ' + near.step.toLocaleString('en') + (near.loss === null ? '' : ' \u00B7 loss ' + near.loss.toFixed(3));
        }
        let timer = null;
        function stop() { if (timer) cancelAnimationFrame(timer); timer = null; play.textContent = '\u25B6 Play'; }
        slider.addEventListener('input', () => { stop(); const f = +slider.value; draw(f, f, 0); });
        play.addEventListener('click', () => { if (timer) stop(); else start(); });
        function start() {
          let from = +slider.value >= frames.length - 1 ? 0 : +slider.value, begun = null;
          draw(from, from, 0); slider.value = from; play.textContent = '\u275A\u275A Pause';
          function tick(now) {
            if (begun === null) begun = now;
            const t = Math.min((now - begun) / duration, 1), to = Math.min(from + 1, frames.length - 1);
            draw(from, to, t);
            if (t < 1) { timer = requestAnimationFrame(tick); return; }
            from = to; slider.value = from; begun = null;
            if (from >= frames.length - 1) { stop(); return; }
            timer = requestAnimationFrame(tick);
          }
          timer = requestAnimationFrame(tick);
        }
        // Open at the first step and play once to the last.
        slider.value = 0;
        draw(0, 0, 0);
        start();

        """;

    static double Spread(double[] xy)
    {
        var (cx, cy) = Centre(xy);
        double sum = 0;
        for (int i = 0; i < xy.Length / 2; i++) sum += (xy[2 * i] - cx) * (xy[2 * i] - cx) + (xy[2 * i + 1] - cy) * (xy[2 * i + 1] - cy);
        return Math.Sqrt(sum / Math.Max(1, xy.Length / 2));
    }

    static (double X, double Y) Centre(double[] xy)
    {
        double cx = 0, cy = 0;
        int n = Math.Max(1, xy.Length / 2);
        for (int i = 0; i < xy.Length / 2; i++)
        {
            cx += xy[2 * i];
            cy += xy[2 * i + 1];
        }
        return (cx / n, cy / n);
    }
}
