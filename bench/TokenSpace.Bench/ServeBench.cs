using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace TokenSpace.Bench;

/// <summary>
/// <c>serve</c>: the explorer on loopback with GloVe 100d (the real host, Kestrel, in this process), driven by
/// Debian's <c>wrk</c> on <c>/api/neighbors</c> over 2,000 different words at 1, 16 and 64 connections, on the exact path
/// (<c>exact=1</c>: the full scan) and the approximate one (the <c>.ann</c> index beside the cached vectors, built there once
/// if missing, as <c>tokenspace index build</c> does), alternating in each of several rounds, then one median line per path and
/// connection count; then a long run sampling the process's RSS; then 100 clients that open a t-SNE stream and leave, after
/// which the process's CPU time is watched while idle. JSON lines on stdout; the load average is on each line. Each round also
/// reports the server's CPU time per request (this process serves, wrk is another): unlike requests/s it hardly moves when
/// other jobs load the machine, and 2,000 / it is what two idle cores could serve.
/// </summary>
/// <remarks>
/// Options: <c>--seconds N</c> per round (20), <c>--rounds N</c> (3), <c>--connections 1,16,64</c>, <c>--soak-seconds N</c>
/// (300, 0 skips), <c>--streams N</c> (100).
/// </remarks>
static class ServeBench
{
    public static void Run(string[] args)
    {
        int seconds = Measure.Option(args, "--seconds", 20);
        int rounds = Measure.Option(args, "--rounds", 3);
        int soak = Measure.Option(args, "--soak-seconds", 300);
        int streams = Measure.Option(args, "--streams", 100);
        var connectionCounts = (Measure.Option(args, "--connections") ?? "1,16,64").Split(',').Select(int.Parse).ToArray();
        if (!File.Exists("/usr/bin/wrk")) throw new InvalidOperationException("wrk is not installed (apt-get install wrk)");
        using var host = ServeHost.Start();
        OpenIndex(host.Vectors);
        string url = host.Url;
        var scripts = new Dictionary<string, string>
        {
            ["exact"] = WriteScript(host.Vectors.Keys, "&exact=1"),
            ["approximate"] = WriteScript(host.Vectors.Keys, ""),
        };
        // One warm-up run per path so the first measured round does not pay for the JIT.
        foreach (string script in scripts.Values) Wrk(script, url, 4, 5);
        var results = new List<WrkResult>();
        for (int round = 1; round <= rounds; round++)
        {
            foreach (var (path, script) in scripts)
            {
                foreach (int connections in connectionCounts)
                {
                    long before = Rss();
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var result = Wrk(script, url, connections, seconds);
                    double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
                    results.Add(result with
                    {
                        Path = path,
                        Round = round,
                        RssBeforeMb = Mb(before),
                        RssAfterMb = Mb(Rss()),
                        ServerCpuMsPerRequest = Math.Round(cpuMs / Math.Max(1, result.Requests), 3),
                        LoadAverage = Peak.LoadAverage(),
                    });
                    Measure.Emit(results[^1]);
                }
            }
        }
        foreach (var same in results.GroupBy(r => (r.Path, r.Connections)))
        {
            Measure.Emit(new
            {
                bench = "serve-neighbors-median",
                path = same.Key.Path,
                connections = same.Key.Connections,
                rounds = same.Count(),
                requests_per_second = Measure.Median(same.Select(r => r.RequestsPerSecond).ToArray()),
                p50_ms = Measure.Median(same.Select(r => r.P50Ms).ToArray()),
                p99_ms = Measure.Median(same.Select(r => r.P99Ms).ToArray()),
                p99_ms_max = same.Max(r => r.P99Ms),
                errors = same.Sum(r => r.Errors + r.Non2xx),
                server_cpu_ms_per_request = Measure.Median(same.Select(r => r.ServerCpuMsPerRequest!.Value).ToArray()),
                rss_mb = same.Last().RssAfterMb,
                load_averages = same.Select(r => r.LoadAverage).ToArray(),
            });
        }
        if (soak > 0) Soak(scripts["exact"], url, soak);
        Streams(url, streams);
        foreach (string script in scripts.Values) File.Delete(script);
    }

    /// <summary>
    /// Attaches the approximate index beside the cached vectors, building it there first when missing (minutes; once per
    /// machine, as <c>tokenspace index build --vectors glove-100d</c> would).
    /// </summary>
    static void OpenIndex(TokenSpace.Vectors.KeyedVectors vectors)
    {
        string path = TokenSpace.Vectors.ApproximateIndex.PathBeside(TokenSpace.Formats.PretrainedVectors.Resolve(ServeHost.SpaceName)!);
        if (File.Exists(path))
        {
            vectors.OpenIndex(path);
            return;
        }
        Console.Error.WriteLine($"building the approximate index {path} (once)");
        vectors.BuildIndex(path);
    }

    sealed record WrkResult(string Bench, int Connections, int Seconds, long Requests, double RequestsPerSecond, double P50Ms, double P99Ms,
        long Errors, long Non2xx)
    {
        public string? Path { get; init; }
        public int? Round { get; init; }
        public double? RssBeforeMb { get; init; }
        public double? RssAfterMb { get; init; }
        public double? ServerCpuMsPerRequest { get; init; }
        public string? LoadAverage { get; init; }
    }

    /// <summary>wrk with one thread (plenty for a few thousand requests/s, and it leaves the server more of two cores); its Lua
    /// <c>done</c> prints one JSON line, parsed here.</summary>
    static WrkResult Wrk(string script, string url, int connections, int seconds)
    {
        var start = new ProcessStartInfo("/usr/bin/wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-t", "1", "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", $"{seconds}s", "--timeout", "5s", "-s", script, url })
        {
            start.ArgumentList.Add(a);
        }
        using var wrk = Process.Start(start)!;
        string output = wrk.StandardOutput.ReadToEnd();
        wrk.WaitForExit();
        string line = output.Split('\n').Single(l => l.StartsWith("JSON ", StringComparison.Ordinal))[5..];
        var json = JsonDocument.Parse(line).RootElement;
        return new WrkResult("serve-neighbors", connections, seconds, json.GetProperty("requests").GetInt64(),
            Math.Round(json.GetProperty("requests").GetInt64() / (json.GetProperty("duration_us").GetDouble() / 1e6), 1),
            json.GetProperty("p50_us").GetDouble() / 1000, json.GetProperty("p99_us").GetDouble() / 1000,
            json.GetProperty("errors").GetInt64(), json.GetProperty("non2xx").GetInt64());
    }

    /// <summary>16 connections on the exact path for <paramref name="seconds"/>, the RSS sampled every 10 s: flat means within ±10 % of
    /// the first sample.</summary>
    static void Soak(string script, string url, int seconds)
    {
        var samples = new List<double>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                samples.Add(Mb(Rss()));
                try { await Task.Delay(10_000, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        var result = Wrk(script, url, 16, seconds);
        sampling.Cancel();
        sampler.Wait();
        samples.Add(Mb(Rss()));
        double first = samples[0];
        Measure.Emit(new
        {
            bench = "serve-soak",
            connections = 16,
            seconds,
            result.Requests,
            requests_per_second = result.RequestsPerSecond,
            p99_ms = result.P99Ms,
            errors = result.Errors + result.Non2xx,
            rss_first_mb = first,
            rss_min_mb = samples.Min(),
            rss_max_mb = samples.Max(),
            rss_last_mb = samples[^1],
            rss_flat = samples.All(s => Math.Abs(s - first) <= 0.1 * first),
            rss_samples_mb = samples,
            load_average = Peak.LoadAverage(),
        });
    }

    /// <summary>
    /// <paramref name="count"/> clients open a t-SNE stream of 5,000 points and leave after 2 s; then the process's CPU
    /// time is measured over 5 s of idleness (a computation left running would show as ~100 % of a core or more).
    /// </summary>
    static void Streams(string url, int count)
    {
        // The clients live in the server's process: threads for them up front, so that on two loaded cores the measurement
        // is of the server answering, not of the thread pool slowly adding threads for the clients' continuations.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, count + 8), io);
        using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, count).Select(async i =>
        {
            using var leave = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            bool gotHeaders = false;
            try
            {
                using var response = await client.GetAsync($"api/projection?method=tsne&top=5000&iterations=5000&seed={i}&stream=1",
                    HttpCompletionOption.ResponseHeadersRead, leave.Token);
                gotHeaders = response.IsSuccessStatusCode;
                using var body = await response.Content.ReadAsStreamAsync(leave.Token);
                var buffer = new byte[65536];
                while (await body.ReadAsync(buffer, leave.Token) > 0) { }
            }
            catch (OperationCanceledException)
            {
            }
            return gotHeaders;
        }).ToArray();
        Task.WaitAll(clients);
        double leftAfter = clock.Elapsed.TotalSeconds;
        Thread.Sleep(1000); // let the last cancellation reach the computation
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var idle = Stopwatch.StartNew();
        Thread.Sleep(5000);
        process.Refresh();
        double cpuPercent = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / idle.Elapsed.TotalMilliseconds * 100;
        Measure.Emit(new
        {
            bench = "serve-tsne-disconnect",
            clients = count,
            streams_started = clients.Count(c => c.Result),
            all_left_after_s = Math.Round(leftAfter, 2),
            idle_cpu_percent_over_5s = Math.Round(cpuPercent, 1),
            rss_mb = Mb(Rss()),
            load_average = Peak.LoadAverage(),
        });
    }

    /// <summary>A wrk script cycling through 2,000 alphabetic words of the first 50,000 keys (with <paramref name="extra"/> appended to
    /// each query), printing its summary as JSON.</summary>
    static string WriteScript(IReadOnlyList<string> keys, string extra)
    {
        var words = keys.Take(50_000).Where(k => k.All(char.IsAsciiLetterLower)).Where((_, i) => i % 20 == 0).Take(2000).ToList();
        string path = Path.Combine(Path.GetTempPath(), $"tokenspace-serve-{Environment.ProcessId}-{extra.Length}.lua");
        File.WriteAllText(path, $$"""
            local words = { {{string.Join(", ", words.Select(w => $"\"{w}\""))}} }
            local n = 0
            setup = function(thread) thread:set("offset", math.random(#words)) end
            request = function()
              n = n + 1
              return wrk.format("GET", "/api/neighbors?space=glove-100d&k=10{{extra}}&word=" .. words[(n + (offset or 0)) % #words + 1])
            end
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format('JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d, "non2xx": %d}\n',
                summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
                e.connect + e.read + e.write + e.timeout, e.status))
            end
            """);
        return path;
    }

    static long Rss()
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    static double Mb(long bytes) => Math.Round(bytes / 1048576.0, 1);
}
