using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TokenSpace.Server;

namespace TokenSpace.Tests.Server;

/// <summary>The JSON API in-process: the library's answers, problem+json errors, bounds, security headers, streams.</summary>
public sealed class ApiTests : IClassFixture<SmallExplorer>
{
    readonly SmallExplorer explorer;
    readonly HttpClient client;

    public ApiTests(SmallExplorer explorer)
    {
        this.explorer = explorer;
        client = explorer.CreateClient();
    }

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    async Task<JsonNode> Get(string url)
    {
        using var response = await client.GetAsync(url, Cancel);
        string body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    async Task<JsonNode> Problem(string url, HttpStatusCode status, string parameter)
    {
        using var response = await client.GetAsync(url, Cancel);
        string body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == status, $"{url}: expected {(int)status}, got {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        Assert.Equal(parameter, problem["parameter"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()));
        return problem;
    }

    [Fact]
    public async Task Neighbors_PositiveNegativeWithSpaces_TrimmedAsTheCliDoesAndEqualsLibraryQuery()
    {
        var api = await Get("/api/neighbors?space=small&positive=paris,%20germany&negative=%20france&k=3");
        var expected = explorer.Options.Spaces[0].Vectors.MostSimilar(["paris", "germany"], ["france"], 3);
        Assert.Equal("paris + germany - france", api["query"]!.GetValue<string>());
        Assert.Equal(expected.Select(n => n.Key), api["neighbors"]!.AsArray().Select(n => n!["key"]!.GetValue<string>()));
        Assert.Equal(expected.Select(n => n.Similarity), api["neighbors"]!.AsArray().Select(n => n!["similarity"]!.GetValue<float>()));
    }

    [Fact]
    public async Task Neighbors_VectorOfAWord_FindsTheWordFirst()
    {
        var row = explorer.Options.Spaces[0].Vectors.GetVector("berlin").ToArray();
        string list = string.Join(",", row.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        var api = await Get($"/api/neighbors?space=small&vector={list}&k=2");
        Assert.Equal("vector", api["query"]!.GetValue<string>());
        Assert.Equal("berlin", api["neighbors"]![0]!["key"]!.GetValue<string>());
        Assert.Equal(1f, api["neighbors"]![0]!["similarity"]!.GetValue<float>(), 1e-6f);
    }

    [Fact]
    public async Task Neighbors_UnknownWord_NotFoundWithSuggestions()
    {
        var problem = await Problem("/api/neighbors?space=small&word=pariss", HttpStatusCode.NotFound, "word");
        Assert.Contains("paris", problem["suggestions"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Theory]
    [InlineData("/api/neighbors?space=small&word=paris&k=1001", "k")]
    [InlineData("/api/neighbors?space=small&word=paris&k=0", "k")]
    [InlineData("/api/neighbors?space=small&word=paris&k=ten", "k")]
    [InlineData("/api/neighbors?space=small&word=paris&metric=manhattan", "metric")]
    [InlineData("/api/neighbors?space=small&word=paris&positive=big", "positive")]
    [InlineData("/api/neighbors?space=small&negative=paris", "negative")]
    [InlineData("/api/neighbors?space=small&vector=1,2,3", "vector")]
    [InlineData("/api/neighbors?space=small&vector=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,NaN", "vector")]
    [InlineData("/api/neighbors?space=small", "word")]
    [InlineData("/api/analogy?space=small&a=france&b=paris", "c")]
    [InlineData("/api/analogy?space=small&a=france&b=paris&c=germany&method=mul", "method")]
    [InlineData("/api/projection?space=small&top=100001", "top")]
    [InlineData("/api/projection?space=small&top=10&words=paris,big", "words")]
    [InlineData("/api/projection?space=small&top=2", "top")]
    [InlineData("/api/projection?space=small&top=10&stream=1", "stream")]
    [InlineData("/api/projection?space=small&around=paris&k=1001", "k")]
    [InlineData("/api/projection?space=small&words=paris,paris,big", "words")]
    [InlineData("/api/projection?space=random&method=tsne&top=20001", "top")]
    [InlineData("/api/projection?space=random&method=umap&top=20001", "top")]
    [InlineData("/api/projection?space=small&method=umap&top=10&neighbors=11", "neighbors")]
    [InlineData("/api/projection?space=small&method=umap&top=10&min_dist=-0.5", "min_dist")]
    [InlineData("/api/projection?space=small&method=umap&top=10&dims=3", "dims")]
    [InlineData("/api/projection?space=small&method=tsne&top=10&dims=4", "dims")]
    [InlineData("/api/axes?space=small&x=paris&y=big,small", "x")]
    [InlineData("/api/keys?space=small&limit=1001", "limit")]
    public async Task Endpoint_OutOfBounds_BadRequestNamingParameter(string url, string parameter) =>
        await Problem(url, HttpStatusCode.BadRequest, parameter);

    [Fact]
    public async Task Endpoint_TooLongLists_BadRequest()
    {
        string many = string.Join(",", Enumerable.Range(0, 101).Select(i => "w" + i));
        await Problem($"/api/neighbors?space=random&positive={many}", HttpStatusCode.BadRequest, "positive");
        await Problem($"/api/projection?space=random&words={many}", HttpStatusCode.BadRequest, "words");
        await Problem($"/api/neighbors?space=small&word={new string('a', Bounds.MaxKeyLength + 1)}", HttpStatusCode.BadRequest, "word");
    }

    [Fact]
    public async Task Endpoint_UnknownSpace_NotFound()
    {
        var problem = await Problem("/api/neighbors?space=../../etc/passwd&word=paris", HttpStatusCode.NotFound, "space");
        Assert.Contains("loaded: small, random", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Endpoint_UnknownPathOrMethod_Problem()
    {
        await Problem("/api/nothing", HttpStatusCode.NotFound, null!);
        using var response = await client.PostAsync("/api/neighbors?word=paris", new StringContent(""), Cancel);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Spaces_ListsLoadedSpaces()
    {
        var spaces = (await Get("/api/spaces")).AsArray();
        Assert.Equal(["small", "random"], spaces.Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal(249, spaces[0]!["count"]!.GetValue<int>());
        Assert.Equal(16, spaces[0]!["dimensions"]!.GetValue<int>());
        Assert.Equal(SmallExplorer.SmallPath, spaces[0]!["source"]!.GetValue<string>());
        Assert.Equal(["kind"], spaces[0]!["metadata"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    [Fact]
    public async Task Keys_PrefixAndNear_LibraryAnswers()
    {
        var kv = explorer.Options.Spaces[0].Vectors;
        var byPrefix = await Get("/api/keys?space=small&prefix=PA&limit=3");
        Assert.Equal(kv.KeysWithPrefix("pa", 3), byPrefix["keys"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.All(byPrefix["keys"]!.AsArray(), k => Assert.StartsWith("pa", k!.GetValue<string>(), StringComparison.OrdinalIgnoreCase));
        var near = await Get("/api/keys?space=small&near=pariss");
        Assert.Equal("paris", near["keys"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Projection_Pca3d_EqualsLibraryPca()
    {
        var result = await Get("/api/projection?space=small&method=pca&words=paris,france,berlin,germany,big&dims=3");
        var kv = explorer.Options.Spaces[0].Vectors;
        string[] words = ["paris", "france", "berlin", "germany", "big"];
        var matrix = words.SelectMany(w => kv.GetVector(w).ToArray()).ToArray();
        var pca = TokenSpace.Projection.Pca.Fit(matrix, 5, kv.Dimensions, 3);
        var points = result["points"]!.AsArray();
        Assert.Equal(3, result["dimensions"]!.GetValue<int>());
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(words[i], points[i]!["key"]!.GetValue<string>());
            Assert.Equal(pca.Coordinates[3 * i + 2], points[i]!["z"]!.GetValue<double>());
        }
        Assert.Equal("city", points[0]!["meta"]![0]!.GetValue<string>());
        Assert.Null(points[4]!["meta"]![0]);
    }

    [Fact]
    public async Task Projection_Around_WordAndItsNeighboursMarked()
    {
        var result = await Get("/api/projection?space=small&around=paris&k=5");
        var points = result["points"]!.AsArray();
        var expected = explorer.Options.Spaces[0].Vectors.MostSimilar("paris", 5).Select(n => n.Key).Prepend("paris");
        Assert.Equal(expected, points.Select(p => p!["key"]!.GetValue<string>()));
        Assert.True(points[0]!["marked"]!.GetValue<bool>());
        Assert.Null(points[1]!["marked"]);
        Assert.Null(points[1]!["z"]);
    }

    [Fact]
    public async Task Axes_ProjectionOnDirections_AxisKeysMarked()
    {
        var result = await Get("/api/axes?space=small&x=france,paris&y=big,small&top=3");
        var points = result["points"]!.AsArray();
        var kv = explorer.Options.Spaces[0].Vectors;
        var first = kv.Keys.Take(3).ToList();
        string[] ends = ["france", "paris", "big", "small"];
        Assert.Equal(first.Concat(ends.Where(k => kv.TryGetIndex(k) >= 3)).Order(), points.Select(p => p!["key"]!.GetValue<string>()).Order());
        var paris = points.Single(p => p!["key"]!.GetValue<string>() == "paris")!;
        Assert.True(paris["marked"]!.GetValue<bool>());
        var layout = kv.AxisCoordinates(["paris"], ("france", "paris"), ("big", "small"));
        Assert.Equal(layout[0], paris["x"]!.GetValue<double>());
    }

    [Fact]
    public async Task Responses_SecurityHeaders_NoCors()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/spaces");
        request.Headers.Add("Origin", "https://evil.example");
        using var response = await client.SendAsync(request, Cancel);
        string csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Request_ForeignHostHeader_Refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/spaces");
        request.Headers.Host = "rebound.evil.example";
        using var response = await client.SendAsync(request, Cancel);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task OpenApi_DescribesEveryEndpoint()
    {
        var document = await Get("/openapi/v1.json");
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Equal(["/api/spaces", "/api/keys", "/api/neighbors", "/api/analogy", "/api/projection", "/api/export", "/api/axes", "/api/snapshots"], paths);
        var parameters = document["paths"]!["/api/neighbors"]!["get"]!["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>());
        Assert.Equal(["space", "word", "positive", "negative", "vector", "k", "metric", "exact"], parameters);
        var projection = document["paths"]!["/api/projection"]!["get"]!["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>());
        Assert.Equal(["space", "method", "top", "words", "around", "k", "dims", "neighbors", "min_dist", "perplexity", "iterations", "seed", "stream"], projection);
    }

    [Fact]
    public async Task Neighbors_ManyConcurrentQueries_EachEqualsItsLibraryAnswer()
    {
        var kv = explorer.Options.Spaces[1].Vectors;
        var words = Enumerable.Range(0, 200).Select(i => "w" + (i * 97 % kv.Count)).ToList();
        var answers = await Task.WhenAll(words.Select((w, i) => Get($"/api/neighbors?space=random&word={w}&k={1 + i % 12}")));
        for (int i = 0; i < words.Count; i++)
        {
            var expected = kv.MostSimilar(words[i], 1 + i % 12);
            Assert.Equal(expected.Select(n => n.Key), answers[i]["neighbors"]!.AsArray().Select(n => n!["key"]!.GetValue<string>()));
            Assert.Equal(expected.Select(n => n.Similarity), answers[i]["neighbors"]!.AsArray().Select(n => n!["similarity"]!.GetValue<float>()));
        }
    }

    [Fact]
    public async Task Export_Svg_ScatterPlotOfTheProjection()
    {
        using var response = await client.GetAsync("/api/export?space=small&method=pca&words=paris,france,berlin,germany,big&color=kind", Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("small-pca.svg", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
        string svg = await response.Content.ReadAsStringAsync(Cancel);
        var projection = await Get("/api/projection?space=small&method=pca&words=paris,france,berlin,germany,big");
        var points = projection["points"]!.AsArray();
        var expected = TokenSpace.Plotting.ScatterPlot.Render(points.Select(p => p!["key"]!.GetValue<string>()).ToList(),
            points.SelectMany(p => new[] { p!["x"]!.GetValue<double>(), p["y"]!.GetValue<double>() }).ToArray(),
            new TokenSpace.Plotting.ScatterOptions { Title = "small · PCA", Subtitle = "5 points", Groups = ["city", "country", null, null, null] });
        Assert.Equal(expected.Svg, svg);
        await Problem("/api/export?space=small&top=10&color=nothing", HttpStatusCode.BadRequest, "color");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Projection_TsneStreamDisconnected_ComputationStops(int dims)
    {
        var projections = explorer.Services.GetRequiredService<Projections>();
        var response = await client.GetAsync($"/api/projection?space=random&method=tsne&top=3000&iterations=5000&dims={dims}&stream=1",
            HttpCompletionOption.ResponseHeadersRead, Cancel);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
        string? line;
        while ((line = await reader.ReadLineAsync(Cancel)) != "event: frame") Assert.NotNull(line);
        var frame = JsonNode.Parse((await reader.ReadLineAsync(Cancel))!["data: ".Length..])!;
        Assert.Equal(3000, frame["points"]!.AsArray().Count);
        Assert.Equal(dims == 3, frame["points"]![0]!.AsObject().ContainsKey("z"));
        Assert.InRange(frame["iteration"]!.GetValue<int>(), 1, 4000);
        Assert.Equal(1, projections.Active);

        response.Dispose(); // the client leaves
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (projections.Active > 0 && stopwatch.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20, Cancel);
        Assert.Equal(0, projections.Active);
    }

    [Fact]
    public async Task Projection_Tsne3d_EqualsLibraryTsne()
    {
        var result = await Get("/api/projection?space=small&method=tsne&top=12&dims=3&iterations=300&seed=2");
        var kv = explorer.Options.Spaces[0].Vectors;
        var matrix = kv.Keys.Take(12).SelectMany(w => kv.GetVector(w).ToArray()).ToArray();
        var tsne = TokenSpace.Projection.Tsne.Fit(matrix, 12, kv.Dimensions,
            new TokenSpace.Projection.TsneOptions { Perplexity = 11 / 3.0, Dimensions = 3, MaxIter = 300, Seed = 2 }, cancellationToken: Cancel);
        var points = result["points"]!.AsArray();
        Assert.Equal(3, result["dimensions"]!.GetValue<int>());
        Assert.Equal(tsne.KlDivergence, result["kl_divergence"]!.GetValue<double>());
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(tsne.Coordinates[3 * i], points[i]!["x"]!.GetValue<double>());
            Assert.Equal(tsne.Coordinates[3 * i + 2], points[i]!["z"]!.GetValue<double>());
        }
    }

    [Fact]
    public async Task Projection_TsneStream_FramesThenResultEqualToPlainAnswer()
    {
        const string query = "/api/projection?space=small&method=tsne&top=60&iterations=300&seed=2";
        var plain = await Get(query);
        using var response = await client.GetAsync(query + "&stream=1", HttpCompletionOption.ResponseHeadersRead, Cancel);
        string body = await response.Content.ReadAsStringAsync(Cancel);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("event: start\n", events[0]);
        Assert.Equal(300, JsonNode.Parse(events[0].Split("data: ", 2)[1])!["total"]!.GetValue<int>());
        Assert.StartsWith("event: result\n", events[^1]);
        var result = JsonNode.Parse(events[^1].Split("data: ", 2)[1])!;
        Assert.True(JsonNode.DeepEquals(plain, result));
        Assert.All(events[1..^1], e => Assert.StartsWith("event: frame\n", e));
    }
}
