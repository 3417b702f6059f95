using System.Net;
using System.Text.Json.Nodes;
using TokenSpace.Tests.Cli;

namespace TokenSpace.Tests.Server;

/// <summary>The API and the CLI asked the same question give the same JSON (they swap the console, so they run alone).</summary>
[Collection(ProcessWideState.Name)]
public sealed class ApiCliTests(SmallExplorer explorer) : IClassFixture<SmallExplorer>
{
    readonly HttpClient client = explorer.CreateClient();

    async Task<JsonNode> Get(string url)
    {
        using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    static JsonNode Cli(params string[] args)
    {
        var (code, output, error) = VectorsCliTests.Run([.. args, "--json"]);
        Assert.True(code == 0, error);
        return JsonNode.Parse(output)!;
    }

    [Theory]
    [InlineData("paris", 5, "cosine")]
    [InlineData("big", 10, "cosine")]
    [InlineData("france", 7, "euclidean")]
    public async Task Neighbors_SameQueryAsCli_SameJson(string word, int k, string metric)
    {
        var api = await Get($"/api/neighbors?space=small&word={word}&k={k}&metric={metric}");
        var cli = Cli("neighbors", "--vectors", SmallExplorer.SmallPath, word, "--top", k.ToString(), "--metric", metric);
        Assert.True(JsonNode.DeepEquals(cli["results"]![0], api), $"API {api.ToJsonString()}\nCLI {cli["results"]![0]!.ToJsonString()}");
        Assert.Equal(k, api["neighbors"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("cosmul")]
    public async Task Analogy_SameQueryAsCli_SameJson(string method)
    {
        var api = await Get($"/api/analogy?space=small&a=france&b=paris&c=germany&method={method}&k=4");
        var cli = Cli("analogy", "--vectors", SmallExplorer.SmallPath, "france", "paris", "germany", "--method", method, "--top", "4");
        Assert.True(JsonNode.DeepEquals(cli, api), $"API {api.ToJsonString()}\nCLI {cli.ToJsonString()}");
    }

    [Fact]
    public async Task Projection_Umap_SameLayoutAsMapCli()
    {
        var api = await Get("/api/projection?space=small&method=umap&top=120&neighbors=6&min_dist=0.2&seed=3");
        string svg = Path.Combine(Path.GetTempPath(), $"tokenspace-umap-{Environment.ProcessId}.svg");
        try
        {
            var cli = Cli("map", "--vectors", SmallExplorer.SmallPath, "--method", "umap", "--top", "120", "--neighbors", "6", "--min-dist", "0.2",
                "--seed", "3", "--out", svg);
            Assert.Equal("umap", api["method"]!.GetValue<string>());
            Assert.Equal(500, api["iterations"]!.GetValue<int>());
            var apiPoints = api["points"]!.AsArray();
            var cliPoints = cli["points"]!.AsArray();
            Assert.Equal(120, apiPoints.Count);
            for (int i = 0; i < 120; i++)
            {
                foreach (string field in new[] { "key", "x", "y" }) Assert.True(JsonNode.DeepEquals(cliPoints[i]![field], apiPoints[i]![field]), $"point {i} {field}");
            }
        }
        finally
        {
            File.Delete(svg);
        }
    }
}
