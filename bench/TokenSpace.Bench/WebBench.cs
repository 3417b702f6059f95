using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Playwright;

namespace TokenSpace.Bench;

/// <summary>
/// The explorer page in headless Chromium (software WebGL, as on a machine without a GPU): for N GloVe points
/// (default 50,000), the time to first paint of the real page served by <c>tokenspace serve</c> (navigation start to
/// the frame after the points were drawn; split into the projection request and the rest) and the frame time while
/// panning; and the two scatter libraries weighed for it (web/bench.html: three.js and regl-scatterplot on the same
/// random points). Rounds alternate between the three pages; medians are reported.
/// </summary>
static class WebBench
{
    public static void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    static async Task RunAsync(string[] args)
    {
        int n = Measure.Option(args, "--points", 50000), rounds = Measure.Option(args, "--rounds", 3), frames = Measure.Option(args, "--frames", 120);
        string chromium = Measure.Option(args, "--chromium") ?? "/usr/bin/chromium";
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "TokenSpace.Cli.dll"), "serve", "--vectors", "glove-100d",
            "--port", port.ToString(CultureInfo.InvariantCulture), "--no-browser" }) start.ArgumentList.Add(a);
        using var server = Process.Start(start)!;
        try
        {
            while (await server.StandardOutput.ReadLineAsync() is { } line && !line.StartsWith("listening on ", StringComparison.Ordinal)) { }
            if (server.HasExited) throw new InvalidOperationException($"serve exited: {await server.StandardError.ReadToEndAsync()}");
            string root = $"http://127.0.0.1:{port}";
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
            });
            var results = new Dictionary<string, List<double[]>>();
            void Add(string name, params double[] values) => (results.TryGetValue(name, out var l) ? l : results[name] = []).Add(values);
            for (int round = 0; round < rounds; round++)
            {
                foreach (string lib in new[] { "three", "regl" })
                {
                    var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1200, Height = 800 } });
                    await page.GotoAsync($"{root}/bench.html?lib={lib}&n={n}&frames={frames}");
                    var r = await page.WaitForFunctionAsync("() => window.benchResult", null, new() { Timeout = 120_000 });
                    var result = await r.JsonValueAsync<JsonElement>();
                    Add(lib, result.GetProperty("firstPaintMs").GetDouble(), result.GetProperty("panFrameMedianMs").GetDouble(),
                        result.GetProperty("panFrameP95Ms").GetDouble());
                    await page.CloseAsync();
                }
                var explorer = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
                await explorer.GotoAsync($"{root}/?space=glove-100d&top={n}");
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
                    points = n,
                    rounds,
                    first_paint_ms = M(0),
                    pan_frame_median_ms = M(1),
                    pan_frame_p95_ms = M(2),
                    projection_request_ms = name == "page" ? M(3) : (double?)null,
                    upload_and_draw_ms = name == "page" ? M(4) : (double?)null,
                    pan_draw_call_median_ms = name == "page" ? M(5) : (double?)null,
                });
            }
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }
}
