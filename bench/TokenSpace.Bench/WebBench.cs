using System.Text.Json;
using Microsoft.Playwright;
using TokenSpace.Tests.Web;

namespace TokenSpace.Bench;

/// <summary>
/// The explorer page in headless Chromium (software WebGL, as on a machine without a GPU), for 50,000 and 100,000 GloVe
/// points: the time to first paint of the real page served by the explorer (navigation start to the frame after the
/// points were drawn; split into the projection request and the rest) and the frame time while panning; and the two
/// scatter libraries weighed for it on the same number of random points (web/bench.html: three.js, which the page
/// uses, and regl-scatterplot). Rounds alternate between the three pages; medians are reported.
/// </summary>
/// <remarks>
/// regl compiles its draw commands with <c>Function(…)</c>, which the explorer's Content-Security-Policy (no
/// <c>unsafe-eval</c>) refuses, so bench.html is opened in a browser context that bypasses the CSP — for both libraries,
/// so they are measured alike; the explorer page runs under its real CSP. Options: <c>--points 50000,100000</c>,
/// <c>--rounds 3</c>, <c>--frames 120</c>, <c>--chromium PATH</c>.
/// </remarks>
static class WebBench
{
    public static void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    static async Task RunAsync(string[] args)
    {
        int[] sizes = (Measure.Option(args, "--points") ?? "50000,100000").Split(',').Select(int.Parse).ToArray();
        int rounds = Measure.Option(args, "--rounds", 3), frames = Measure.Option(args, "--frames", 120);
        string chromium = Measure.Option(args, "--chromium") ?? Chromium.DefaultPath;
        using var host = ServeHost.Start();
        string root = host.Url.TrimEnd('/');
        var (playwright, browser) = await Chromium.LaunchAsync(chromium);
        using var driver = playwright;
        await using var _ = browser;
        await using var noCsp = await browser.NewContextAsync(new() { BypassCSP = true, ViewportSize = new() { Width = 1200, Height = 800 } });
        foreach (int n in sizes)
        {
            var results = new Dictionary<string, List<double[]>>();
            void Add(string name, params double[] values) => (results.TryGetValue(name, out var l) ? l : results[name] = []).Add(values);
            for (int round = 0; round < rounds; round++)
            {
                foreach (string lib in new[] { "three", "regl" })
                {
                    var page = await noCsp.NewPageAsync();
                    await page.GotoAsync($"{root}/bench.html?lib={lib}&n={n}&frames={frames}");
                    var r = await page.WaitForFunctionAsync("() => window.benchResult", null, new() { Timeout = 120_000 });
                    var result = await r.JsonValueAsync<JsonElement>();
                    Add(lib, result.GetProperty("firstPaintMs").GetDouble(), result.GetProperty("panFrameMedianMs").GetDouble(),
                        result.GetProperty("panFrameP95Ms").GetDouble());
                    await page.CloseAsync();
                }
                var explorer = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
                await explorer.GotoAsync($"{root}/?space={ServeHost.SpaceName}&top={n}");
                var painted = await explorer.WaitForFunctionAsync($"() => {{ const p = window.tokenspace.paint(); return p && p.points === {n} ? p : null; }}",
                    null, new() { Timeout = 120_000 });
                var paint = await painted.JsonValueAsync<JsonElement>();
                var pan = await explorer.EvaluateAsync<JsonElement>($"() => window.tokenspace.pan({frames})");
                var draw = pan.GetProperty("draw").EnumerateArray().Select(e => e.GetDouble()).ToList();
                var intervals = pan.GetProperty("intervals").EnumerateArray().Select(e => e.GetDouble()).Order().ToList();
                Add("page", paint.GetProperty("sincePageStartMs").GetDouble(), Measure.Median(intervals), intervals[(int)(0.95 * (intervals.Count - 1))],
                    paint.GetProperty("fetchMs").GetDouble(), paint.GetProperty("renderMs").GetDouble(), Measure.Median(draw));
                await explorer.CloseAsync();
            }
            foreach (var (name, list) in results)
            {
                double M(int i) => Math.Round(Measure.Median(list.Select(v => v[i])), 1);
                Measure.Emit(new
                {
                    bench = "web",
                    page = name == "page" ? "explorer" : $"bench.html?lib={name}",
                    library = name == "regl" ? "regl-scatterplot" : "three.js",
                    points = n,
                    rounds,
                    first_paint_ms = M(0),
                    pan_frame_median_ms = M(1),
                    pan_frame_p95_ms = M(2),
                    projection_request_ms = name == "page" ? M(3) : (double?)null,
                    upload_and_draw_ms = name == "page" ? M(4) : (double?)null,
                    pan_draw_call_median_ms = name == "page" ? M(5) : (double?)null,
                    load_average = Peak.LoadAverage(),
                });
            }
        }
    }
}
