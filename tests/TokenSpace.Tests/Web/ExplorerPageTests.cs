using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace TokenSpace.Tests.Web;

/// <summary>The explorer page in Chromium against the real server: what a person searches, clicks, drags and reads.</summary>
public sealed class ExplorerPageTests(Explorer explorer) : IClassFixture<Explorer>
{
    const string Fixture = "fixture";

    static async Task<(string Key, double Similarity)[]> ListedNeighbours(IPage page)
    {
        var items = page.GetByTestId("neighbors").Locator("li");
        await items.First.WaitForAsync();
        var list = new List<(string, double)>();
        foreach (var item in await items.AllAsync())
        {
            string key = await item.Locator(".key").TextContentAsync() ?? "";
            string sim = await item.Locator(".similarity").TextContentAsync() ?? "";
            list.Add((key, double.Parse(sim, System.Globalization.CultureInfo.InvariantCulture)));
        }
        return [.. list];
    }

    async Task<(string Key, double Similarity)[]> ApiNeighbours(string space, string word, int k)
    {
        using var http = new HttpClient { BaseAddress = explorer.BaseAddress };
        string query = $"api/neighbors?space={Uri.EscapeDataString(space)}&word={Uri.EscapeDataString(word)}&k={k}";
        using var json = JsonDocument.Parse(await http.GetStringAsync(query, TestContext.Current.CancellationToken));
        return [.. json.RootElement.GetProperty("neighbors").EnumerateArray()
            .Select(n => (n.GetProperty("key").GetString()!, n.GetProperty("similarity").GetDouble()))];
    }

    /// <summary>The boxes of the placed labels; no two may overlap.</summary>
    static async Task AssertLabelsDoNotOverlap(IPage page)
    {
        var boxes = await page.EvaluateAsync<double[][]>(
            "() => [...document.querySelectorAll('#labels .label')].map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })");
        Assert.NotEmpty(boxes);
        for (int i = 0; i < boxes.Length; i++)
            for (int j = i + 1; j < boxes.Length; j++)
            {
                bool overlap = boxes[i][0] < boxes[j][2] - 0.5 && boxes[j][0] < boxes[i][2] - 0.5
                    && boxes[i][1] < boxes[j][3] - 0.5 && boxes[j][1] < boxes[i][3] - 0.5;
                Assert.False(overlap, $"labels {i} and {j} overlap");
            }
    }

    [Fact]
    public async Task Permalink_FixtureSpaceAndWord_ListsTheApisNeighboursAndKeepsState()
    {
        var page = await explorer.Open($"/?space={Fixture}&q=apple");
        var listed = await ListedNeighbours(page);
        var expected = await ApiNeighbours(Fixture, "apple", 10);
        Assert.Equal(expected.Select(n => n.Key), listed.Select(n => n.Key));
        for (int i = 0; i < listed.Length; i++) Assert.Equal(expected[i].Similarity, listed[i].Similarity, 4);
        Assert.Equal("of apple", await page.GetByTestId("neighbors-of").TextContentAsync());
        Assert.Contains("q=apple", page.Url);
        Assert.Equal("apple", await page.GetByTestId("search").InputValueAsync());
        await AssertLabelsDoNotOverlap(page);
        Assert.Empty(Explorer.Errors(page));
        await Explorer.Screenshot(page, "fixture-apple");
    }

    [Fact]
    public async Task Serve_IndexBesideTheFixture_AnswersItsNeighboursFromIt()
    {
        Assert.SkipWhen(explorer.Browser is null, $"Chromium is not installed at {Explorer.ChromiumPath} (apt-get install chromium)");
        using var http = new HttpClient { BaseAddress = explorer.BaseAddress };
        using var spaces = JsonDocument.Parse(await http.GetStringAsync("api/spaces", TestContext.Current.CancellationToken));
        var approximate = spaces.RootElement.EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("approximate").GetBoolean());
        Assert.True(approximate[Fixture]);
        Assert.False(approximate[Path.GetFileName(explorer.DemoDir)]);
    }

    [Fact]
    public async Task ClickPoint_Tiger_SelectsItAndListsAnimals()
    {
        var page = await explorer.Open($"/?space={Fixture}");
        var at = await page.EvaluateAsync<double[]?>("() => window.tokenspace.pointAt('tiger')");
        Assert.NotNull(at);
        await page.Mouse.ClickAsync((float)at[0], (float)at[1]);
        await page.GetByTestId("neighbors-of").Filter(new() { HasText = "of tiger" }).WaitForAsync();
        var listed = await ListedNeighbours(page);
        Assert.Equal((await ApiNeighbours(Fixture, "tiger", 10)).Select(n => n.Key), listed.Select(n => n.Key));
        Assert.Contains("sel=tiger", page.Url);
    }

    [Fact]
    public async Task Hover_Point_ShowsItsKeyInTheTooltip()
    {
        var page = await explorer.Open($"/?space={Fixture}");
        var at = await page.EvaluateAsync<double[]>("() => window.tokenspace.pointAt('navy')");
        await page.Mouse.MoveAsync((float)at[0], (float)at[1]);
        var tooltip = page.GetByTestId("tooltip");
        await tooltip.WaitForAsync();
        Assert.StartsWith("navy\n", await tooltip.TextContentAsync());
    }

    [Fact]
    public async Task ThreeD_SwitchAndOrbit_MapRotatesAndUrlSaysDims3()
    {
        var page = await explorer.Open($"/?space={Fixture}&q=cat");
        await page.GetByTestId("dims-3").ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("dims=3"));
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.includes('points')");
        var map = page.GetByTestId("map");
        byte[] before = await map.ScreenshotAsync();
        var box = (await map.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + box.Width / 2 + 150, box.Y + box.Height / 2 + 40, new() { Steps = 8 });
        await page.Mouse.UpAsync();
        await page.WaitForTimeoutAsync(200);
        byte[] after = await map.ScreenshotAsync();
        Assert.NotEqual(before, after);
        await Explorer.Screenshot(page, "fixture-3d");
    }

    [Fact]
    public async Task ThreeD_TsnePermalink_StreamsA3dMapThatOrbits()
    {
        var page = await explorer.Open($"/?space={Fixture}&method=tsne&dims=3");
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.includes('points')");
        Assert.Equal("true", await page.GetByTestId("dims-3").GetAttributeAsync("aria-pressed"));
        const string offset = "() => { const a = window.tokenspace.pointAt('tiger'), b = window.tokenspace.pointAt('navy'); return [b[0] - a[0], b[1] - a[1]]; }";
        var before = await page.EvaluateAsync<double[]>(offset);
        var box = (await page.GetByTestId("map").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + box.Width / 2 + 150, box.Y + box.Height / 2 + 40, new() { Steps = 8 });
        await page.Mouse.UpAsync();
        await page.WaitForTimeoutAsync(200);
        var after = await page.EvaluateAsync<double[]>(offset);
        // A 2-D map pans: every point moves alike. A 3-D one turns, and the two points' offset on screen changes.
        Assert.True(Math.Abs(after[0] - before[0]) + Math.Abs(after[1] - before[1]) > 5, $"offset {before[0]},{before[1]} -> {after[0]},{after[1]}");
        Assert.Contains("method=tsne", page.Url);
        Assert.Contains("dims=3", page.Url);
        Assert.Empty(Explorer.Errors(page));
        await Explorer.Screenshot(page, "fixture-tsne-3d");
    }

    [Fact]
    public async Task MethodSelector_Umap_DrawsTheMapAndUrlSaysUmap()
    {
        var page = await explorer.Open($"/?space={Fixture}");
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.includes('points')");
        var before = await page.EvaluateAsync<double[]>("() => window.tokenspace.pointAt('tiger')");
        await page.GetByTestId("method").SelectOptionAsync("umap");
        await page.WaitForURLAsync(url => url.Contains("method=umap"));
        // The UMAP layout replaces the PCA one: tiger moves.
        await page.WaitForFunctionAsync("b => { const p = window.tokenspace.pointAt('tiger'); return p && (p[0] !== b[0] || p[1] !== b[1]); }", before);
        Assert.Empty(Explorer.Errors(page));
        await Explorer.Screenshot(page, "fixture-umap");
    }

    [Fact]
    public async Task Analogy_TypedWords_ShowsTheApisAnswer()
    {
        var page = await explorer.Open($"/?space={Fixture}");
        await page.GetByTestId("analogy-a").FillAsync("apple");
        await page.GetByTestId("analogy-b").FillAsync("banana");
        await page.GetByTestId("analogy-c").FillAsync("cat");
        await page.GetByTestId("analogy-c").PressAsync("Enter");
        var answer = page.GetByTestId("analogy-answer");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=analogy-answer]').textContent !== '?'");
        using var http = new HttpClient { BaseAddress = explorer.BaseAddress };
        var api = await http.GetFromJsonAsync<JsonElement>($"api/analogy?space={Fixture}&a=apple&b=banana&c=cat&method=add",
            TestContext.Current.CancellationToken);
        Assert.Equal(api.GetProperty("answer").GetString(), await answer.TextContentAsync());
        Assert.Contains("a=apple", page.Url);
        await Explorer.Screenshot(page, "fixture-analogy");
    }

    [Fact]
    public async Task HostileKey_Searched_ShowsAsTextAndRunsNothing()
    {
        var page = await explorer.Open($"/?space={Fixture}&q={Uri.EscapeDataString(Explorer.HostileKey)}");
        await ListedNeighbours(page);
        Assert.Equal($"of {Explorer.HostileKey}", await page.GetByTestId("neighbors-of").TextContentAsync());
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>(
            "k => [...document.querySelectorAll('#labels .label')].some(e => e.textContent === k)", Explorer.HostileKey));
        // The key as a neighbour of another word is text too.
        await page.GetByTestId("search").FillAsync("black");
        await page.GetByTestId("search").PressAsync("Enter");
        await page.GetByTestId("neighbors-of").Filter(new() { HasText = "of black" }).WaitForAsync();
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Empty(Explorer.Errors(page));
        await Explorer.Screenshot(page, "fixture-hostile");
    }

    [Fact]
    public async Task Timeline_DemoCheckpoint_DraggingTheSliderMovesTheLetters()
    {
        string space = Path.GetFileName(explorer.DemoDir);
        var page = await explorer.Open($"/?space={space}&q=a&view=timeline");
        var slider = page.GetByTestId("timeline-slider");
        await slider.WaitForAsync();
        string last = (await page.GetByTestId("timeline-step").TextContentAsync())!;
        var end = await page.EvaluateAsync<double[]>("() => window.tokenspace.pointAt('a')");
        // The frames recorded their training loss and the run its formation log: both curves are drawn, a point a frame.
        int frames = await page.EvaluateAsync<int>("() => Number(document.querySelector('[data-testid=timeline-slider]').max) + 1");
        foreach (string curve in new[] { "loss", "overlap" })
        {
            string points = await page.Locator($"[data-testid=timeline-loss] polyline.{curve}").GetAttributeAsync("points") ?? "";
            Assert.InRange(points.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, frames - 1, frames); // the first frame has no loss, nor overlap
        }
        Assert.Contains(" · loss ", last);
        await Explorer.Screenshot(page, "demo-timeline");
        var box = (await slider.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width - 4, box.Y + box.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + 2, box.Y + box.Height / 2, new() { Steps = 10 });
        await page.Mouse.UpAsync();
        await page.WaitForURLAsync(url => url.Contains("step=0"));
        Assert.StartsWith("step 0", await page.GetByTestId("timeline-step").TextContentAsync());
        Assert.NotEqual(last, await page.GetByTestId("timeline-step").TextContentAsync());
        var start = await page.EvaluateAsync<double[]>("() => window.tokenspace.pointAt('a')");
        Assert.True(Math.Abs(start[0] - end[0]) + Math.Abs(start[1] - end[1]) > 5, "the letter a did not move between the first and last frame");
    }

    [Fact]
    public async Task Glove_KingPermalink_ListsTheApisNeighbours()
    {
        Assert.SkipUnless(explorer.HasGlove, "glove-100d is not in the cache (tokenspace data fetch glove-100d)");
        var page = await explorer.Open("/?space=glove-100d&q=king&top=20000");
        var listed = await ListedNeighbours(page);
        var expected = await ApiNeighbours("glove-100d", "king", 10);
        Assert.Equal(expected.Select(n => n.Key), listed.Select(n => n.Key));
        await AssertLabelsDoNotOverlap(page);
        await Explorer.Screenshot(page, "glove-king");
    }
}
