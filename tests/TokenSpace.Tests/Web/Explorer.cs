using System.Diagnostics;
using Microsoft.Playwright;
using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Web;

/// <summary>
/// The explorer as a person meets it: the real <c>tokenspace serve</c> (a child process on a loopback port)
/// serving a small fixture space (with an approximate index beside it), the demo's checkpoint with its
/// snapshots and, when cached, GloVe; and Debian's Chromium driven by Playwright. Without Chromium every
/// browser test skips with the reason.
/// </summary>
public sealed class Explorer : IAsyncLifetime
{
    /// <summary>The fixture key that would run script if the page ever rendered a key as HTML.</summary>
    public const string HostileKey = "<img src=x onerror=alert(1)>";

    /// <summary>Where Chromium is looked for (<see cref="Chromium.DefaultPath"/>).</summary>
    public static string ChromiumPath => Chromium.DefaultPath;

    /// <summary>Screenshots land here (test artifacts; <c>out/</c> is not committed).</summary>
    public static string ArtifactsDir { get; } = Path.Combine(TestData.RepoRoot, "out", "browser-tests");

    readonly string dir = Path.Combine(Path.GetTempPath(), $"explorer-{Guid.NewGuid():N}");
    Process? server;
    IPlaywright? playwright;
    readonly List<string> serverOutput = [];

    /// <summary>The server's base address, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The browser, or null when Chromium is not installed.</summary>
    public IBrowser? Browser { get; private set; }

    /// <summary>Whether GloVe 100d is in the data cache (and so loaded as the space <c>glove-100d</c>).</summary>
    public bool HasGlove { get; } = PretrainedVectors.Resolve("glove-100d") is not null;

    /// <summary>The demo's checkpoint directory (its space name is the folder name).</summary>
    public string DemoDir => Path.Combine(dir, "demo");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath)) return;
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(ArtifactsDir);
        WriteFixture(Path.Combine(dir, "fixture.tsvec"));
        // An index beside the fixture: serve finds it and answers the fixture's neighbours from it.
        var index = Run("index", "build", "--vectors", Path.Combine(dir, "fixture.tsvec"), "--json");
        await index.WaitForExitAsync(TestContext.Current.CancellationToken);
        if (index.ExitCode != 0) throw new InvalidOperationException($"index build failed: {await index.StandardError.ReadToEndAsync()}");
        var demo = Run("demo", "--out", DemoDir, "--json");
        await demo.WaitForExitAsync(TestContext.Current.CancellationToken);
        if (demo.ExitCode != 0) throw new InvalidOperationException($"demo failed: {await demo.StandardError.ReadToEndAsync()}");

        List<string> args = ["serve", "--vectors", Path.Combine(dir, "fixture.tsvec"), "--vectors", DemoDir];
        if (HasGlove) args.AddRange(["--vectors", "glove-100d"]);
        args.AddRange(["--port", "0", "--no-browser"]); // the one line it prints names the port it got
        server = Run([.. args]);
        BaseAddress = await Listening(server);

        (playwright, Browser) = await Chromium.LaunchAsync(ChromiumPath);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        playwright?.Dispose();
        if (server is { HasExited: false })
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
        server?.Dispose();
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }

    /// <summary>A new page at <paramref name="pathAndQuery"/>, waited until the explorer says it is ready; skips without Chromium.</summary>
    public async Task<IPage> Open(string pathAndQuery)
    {
        Assert.SkipWhen(Browser is null, $"Chromium is not installed at {ChromiumPath} (apt-get install chromium)");
        var page = await Browser!.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var errors = new List<string>();
        PageErrors.Add(page, errors);
        page.Dialog += (_, dialog) =>
        {
            errors.Add($"dialog: {dialog.Message}");
            _ = dialog.DismissAsync();
        };
        page.PageError += (_, message) => errors.Add($"script error: {message}");
        page.Console += (_, message) =>
        {
            // A failed request is the API's answer (a space without snapshots is a 404), not a fault of the page.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal)) errors.Add($"console: {message.Text}");
        };
        await page.GotoAsync(new Uri(BaseAddress, pathAndQuery).ToString());
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return page;
    }

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IPage, List<string>> PageErrors = [];

    /// <summary>What went wrong on <paramref name="page"/> so far: dialogs opened, script errors, console errors (CSP refusals among them).</summary>
    public static IReadOnlyList<string> Errors(IPage page) => PageErrors.TryGetValue(page, out var list) ? list : [];

    /// <summary>Saves a screenshot of <paramref name="page"/> as <c>out/browser-tests/NAME.png</c>.</summary>
    public static async Task<string> Screenshot(IPage page, string name)
    {
        string path = Path.Combine(ArtifactsDir, name + ".png");
        await page.ScreenshotAsync(new() { Path = path });
        TestContext.Current.AddAttachment(name, path);
        return path;
    }

    /// <summary>
    /// 61 words in three tight groups (fruit, animals, colours) around orthogonal directions, plus the hostile key,
    /// in 8 dimensions: neighbours and maps are predictable.
    /// </summary>
    static void WriteFixture(string path)
    {
        string[][] groups =
        [
            ["apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "orange", "peach", "pear", "plum", "kiwi", "lime", "fig", "date", "papaya", "guava", "apricot", "berry", "olive"],
            ["cat", "dog", "horse", "cow", "sheep", "goat", "pig", "mouse", "rabbit", "fox", "wolf", "bear", "lion", "tiger", "zebra", "camel", "llama", "otter", "seal", "deer"],
            ["red", "green", "blue", "yellow", "purple", "pink", "brown", "black", "white", "grey", "cyan", "magenta", "violet", "indigo", "amber", "beige", "coral", "ivory", "navy", "teal"],
        ];
        const int dims = 8;
        var rng = new Random(7);
        var keys = new List<string>();
        var values = new List<float>();
        for (int g = 0; g < groups.Length; g++)
        {
            foreach (string word in groups[g])
            {
                keys.Add(word);
                for (int d = 0; d < dims; d++) values.Add((d == g ? 3f : 0f) + (float)(rng.NextDouble() - 0.5));
            }
        }
        keys.Add(HostileKey);
        for (int d = 0; d < dims; d++) values.Add(d == 3 ? 3f : 0.1f * d);
        using var kv = new KeyedVectors(keys, [.. values], dims);
        NativeVectors.Write(kv, path);
    }

    /// <summary>Starts the CLI that the tests were built with (<c>dotnet TokenSpace.Cli.dll ARGS</c>).</summary>
    static Process Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TokenSpace.Cli.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    /// <summary>Waits for the server's one line <c>listening on http://HOST:PORT/</c>.</summary>
    async Task<Uri> Listening(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _ = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line) lock (serverOutput) serverOutput.Add(line);
        });
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            lock (serverOutput) serverOutput.Add(line);
            const string prefix = "listening on ";
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return new Uri(line[prefix.Length..].Trim());
        }
        throw new InvalidOperationException($"serve exited before listening: {string.Join('\n', serverOutput)}");
    }
}
