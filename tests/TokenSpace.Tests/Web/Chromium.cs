using Microsoft.Playwright;

namespace TokenSpace.Tests.Web;

/// <summary>
/// Debian's Chromium as the browser tests and the web bench launch it (the bench compiles this file too):
/// headless, with software WebGL (SwiftShader), since there is no GPU here, and nothing that reaches the network.
/// </summary>
public static class Chromium
{
    /// <summary>Where Chromium is looked for: <c>$TOKENSPACE_CHROMIUM</c>, else Debian's package.</summary>
    public static string DefaultPath { get; } = Environment.GetEnvironmentVariable("TOKENSPACE_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>Starts Playwright's driver and Chromium at <paramref name="path"/>.</summary>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync(string path)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = path,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
        });
        return (playwright, browser);
    }
}
