using System.Text.Json.Nodes;
using TokenSpace.Formats;
using TokenSpace.Server;
using TokenSpace.Tests.Cli;

namespace TokenSpace.Tests.Server;

/// <summary>The explorer on GloVe 100d (skipped when it is not cached): its neighbours are `neighbors --json`'s.</summary>
[Collection(ProcessWideState.Name)]
public sealed class GloveApiTests
{
    [Fact]
    public async Task Neighbors_300GloveWords_EqualCliJson()
    {
        string? path = PretrainedVectors.Resolve("glove-100d");
        Assert.SkipWhen(path is null, "glove-100d is not in the cache (tokenspace data fetch glove-100d)");
        var vectors = VectorsFile.Load(path!);
        // 300 words spread over the vocabulary (every 1,000th row), frequent and rare alike; URL-safe ones only.
        var words = Enumerable.Range(0, vectors.Count / 1000).Select(i => vectors.Keys[i * 1000])
            .Where(k => k.All(char.IsAsciiLetterLower)).Take(300).ToList();
        Assert.Equal(300, words.Count);

        var (code, output, error) = VectorsCliTests.Run(["neighbors", "--vectors", "glove-100d", .. words, "--top", "10", "--json"]);
        Assert.True(code == 0, error);
        var cli = JsonNode.Parse(output)!["results"]!.AsArray();

        using var explorer = new ExplorerFactory(new ExplorerOptions { Spaces = [new Space("glove-100d", "glove-100d", vectors)] });
        using var client = explorer.CreateClient();
        int equal = 0;
        for (int i = 0; i < words.Count; i++)
        {
            string body = await client.GetStringAsync($"/api/neighbors?space=glove-100d&word={words[i]}&k=10", TestContext.Current.CancellationToken);
            if (JsonNode.DeepEquals(cli[i], JsonNode.Parse(body))) equal++;
        }
        TestContext.Current.SendDiagnosticMessage($"explorer neighbours equal to `neighbors --json` for {equal} of {words.Count} GloVe words");
        Assert.Equal(words.Count, equal);
    }
}
