using System.Text.Json;
using Microsoft.Playwright;
using TokenSpace.Plotting;

namespace TokenSpace.Tests.Web;

/// <summary>The training page (<see cref="TrainingAnimation"/>) in Chromium: where it starts, that it plays once, that its controls stay put.</summary>
public sealed class TrainingPageTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-trainingpage").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task TrainingPage_Opened_PlaysOnceFromStepZeroShowingLossWithControlsInPlace()
    {
        Assert.SkipWhen(!File.Exists(Explorer.ChromiumPath), $"Chromium is not installed at {Explorer.ChromiumPath} (apt-get install chromium)");
        string[] keys = ["a", "e", "b", "c", "<BOS>"];
        double[] last = [0, 0, 1, 0.2, 3, 3, 3.5, 2, -1, 4];
        MapFrame[] frames =
        [
            new(0, keys, last.Select((v, i) => i % 2 == 0 ? -v : v).ToArray()),
            new(100, keys, last.Select(v => v * 0.5 + 1).ToArray(), 2.5),
            new(200, keys, last.Select(v => v * 0.8).ToArray(), 2.0),
            new(300, keys, last, 1.5),
        ];
        string page = Path.Combine(dir, "training.html");
        TrainingAnimation.Write(page, frames, options: new AnimationOptions { MillisecondsPerFrame = 150, Groups = ["vowel", "vowel", "consonant", "consonant", "BOS"] });

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Explorer.ChromiumPath, Headless = true, Args = ["--no-sandbox", "--disable-gpu"] });
        var tab = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1000, Height = 800 } });
        var errors = new List<string>();
        tab.PageError += (_, message) => errors.Add(message);
        // Before the page's own script: record every text the step label shows, and where the slider is each time.
        await tab.AddInitScriptAsync("""
            window.seen = [];
            new MutationObserver(() => {
              const label = document.getElementById('label'), slider = document.getElementById('step');
              // Only once the page's script has started playing (the button says Pause): before, the label is the static
              // fallback for a browser without script (the last frame).
              const play = document.getElementById('play');
              if (play && play.textContent.includes('Pause')) window.started = true;
              if (!label || !slider || !window.started) return;
              const text = label.textContent, r = slider.getBoundingClientRect();
              if (!window.seen.length || window.seen[window.seen.length - 1].text !== text) window.seen.push({ text, x: r.x, width: r.width });
            }).observe(document, { subtree: true, childList: true, characterData: true });
            """);
        await tab.GotoAsync(new Uri(page).AbsoluteUri);
        await tab.WaitForFunctionAsync("() => document.getElementById('play').textContent.includes('Play') && document.getElementById('step').value === '3'",
            null, new() { Timeout = 20_000 });

        var seen = (await tab.EvaluateAsync<JsonElement>("() => window.seen")).EnumerateArray()
            .Select(s => new Seen(s.GetProperty("text").GetString()!, s.GetProperty("x").GetDouble(), s.GetProperty("width").GetDouble())).ToArray();
        Assert.Empty(errors);
        Assert.True(seen[0].Text == "step 0", string.Join(" / ", seen.Select(s => s.Text)));
        Assert.Equal(["step 0", "step 100 · loss 2.500", "step 200 · loss 2.000", "step 300 · loss 1.500"], seen.Select(s => s.Text).Distinct());
        Assert.Equal("step 300 · loss 1.500", seen[^1].Text);
        Assert.Single(seen.Select(s => (s.X, s.Width)).Distinct());

        // Play again: Pause and Play swap on the button, and the slider does not move.
        var before = await tab.Locator("#step").BoundingBoxAsync();
        await tab.ClickAsync("#play");
        Assert.Contains("Pause", await tab.TextContentAsync("#play"));
        var during = await tab.Locator("#step").BoundingBoxAsync();
        Assert.Equal((before!.X, before.Width), (during!.X, during.Width));
        await tab.ScreenshotAsync(new() { Path = Path.Combine(dir, "training.png") });
    }

    sealed record Seen(string Text, double X, double Width);
}
