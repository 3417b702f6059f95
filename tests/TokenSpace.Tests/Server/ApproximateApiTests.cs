using System.Net;
using System.Text.Json.Nodes;
using TokenSpace.Server;
using TokenSpace.Tests.Vectors;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Server;

/// <summary>
/// A space with an approximate index: <c>/api/neighbors</c> answers cosine queries from it (as <c>neighbors --approx</c>
/// does), <c>exact=1</c> scans, Euclidean queries always scan; a space without an index stays exact.
/// </summary>
public sealed class ApproximateApiTests : IDisposable
{
    readonly string indexPath = Path.Combine(Path.GetTempPath(), $"tokenspace-api-{Guid.NewGuid():N}.ann");
    readonly KeyedVectors indexed = VectorsGolden.Random(5000, 16, seed: 3);
    readonly ExplorerFactory factory;
    readonly HttpClient client;

    public ApproximateApiTests()
    {
        // A sparse graph (2 links a node) walked with the least expansion: it misses true neighbours, so its answers show.
        indexed.BuildIndex(indexPath, new ApproximateIndexOptions { Connectivity = 2, ExpansionAdd = 4 }).Expansion = 1;
        factory = new ExplorerFactory(new ExplorerOptions
        {
            Spaces = [new Space("indexed", "indexed", indexed), new Space("plain", "plain", VectorsGolden.Random(5000, 16, seed: 3))],
        });
        client = factory.CreateClient();
    }

    public void Dispose()
    {
        client.Dispose();
        factory.Dispose();
        File.Delete(indexPath);
    }

    async Task<string[]> Keys(string query)
    {
        using var response = await client.GetAsync(query, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {body}");
        return [.. JsonNode.Parse(body)!["neighbors"]!.AsArray().Select(n => n!["key"]!.GetValue<string>())];
    }

    [Fact]
    public async Task Neighbors_SpaceWithIndex_FromTheIndexUnlessExact()
    {
        int differ = 0;
        foreach (string word in indexed.Keys.Skip(20).Take(20)) // past row 3 (all zeros) and row 10 (its copy)
        {
            var approximate = indexed.MostSimilar(word, 10, approximate: true).Select(n => n.Key).ToArray();
            var exact = indexed.MostSimilar(word, 10).Select(n => n.Key).ToArray();
            Assert.Equal(approximate, await Keys($"/api/neighbors?space=indexed&word={word}&k=10"));
            Assert.Equal(exact, await Keys($"/api/neighbors?space=indexed&word={word}&k=10&exact=1"));
            Assert.Equal(exact, await Keys($"/api/neighbors?space=plain&word={word}&k=10"));
            Assert.Equal(indexed.ClosestByDistance(word, 10).Select(n => n.Key), await Keys($"/api/neighbors?space=indexed&word={word}&k=10&metric=euclidean"));
            if (!approximate.SequenceEqual(exact)) differ++;
        }
        Assert.True(differ > 0, "the sparse index found every true neighbour: the test cannot tell which search answered");
    }

    [Fact]
    public async Task Spaces_WithAndWithoutIndex_SayWhichIsApproximate()
    {
        var spaces = JsonNode.Parse(await client.GetStringAsync("/api/spaces", TestContext.Current.CancellationToken))!.AsArray();
        Assert.Equal([true, false], spaces.Select(s => s!["approximate"]!.GetValue<bool>()));
        using var bad = await client.GetAsync("/api/neighbors?space=indexed&word=w0&exact=2", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
