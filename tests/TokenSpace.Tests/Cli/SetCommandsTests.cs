using System.Text.Json;
using TokenSpace.Tests.Vectors;

namespace TokenSpace.Tests.Cli;

/// <summary>The set-query verbs and neighbors --positive/--negative/--vector print gensim's answers (golden/vectors/sets.json).</summary>
[Collection(ProcessWideState.Name)]
public class SetCommandsTests
{
    static readonly string Small = VectorsGolden.Path("small.txt");

    static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(VectorsGolden.Path("sets.json"))).RootElement;

    static JsonElement Json(params string[] args)
    {
        var (code, output, error) = VectorsCliTests.Run([.. args, "--vectors", Small, "--json"]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public void DoesntMatchAndRankByCentrality_GensimAnswers()
    {
        var q = Golden.GetProperty("doesnt_match")[0];
        Assert.Equal(q.GetProperty("result").GetString(), Json(["doesnt-match", .. Strings(q.GetProperty("words"))]).GetProperty("result").GetString());
        var c = Golden.GetProperty("rank_by_centrality")[1]; // use_norm False
        var ranked = Json(["rank-by-centrality", .. Strings(c.GetProperty("words")), "--raw"]).GetProperty("results");
        Assert.Equal(c.GetProperty("result").EnumerateArray().Select(p => p[0].GetString()), ranked.EnumerateArray().Select(r => r.GetProperty("key").GetString()));
    }

    [Fact]
    public void RankCloserThanNSimilarityRelative_GensimAnswers()
    {
        var r = Golden.GetProperty("rank")[1];
        Assert.Equal(r.GetProperty("result").GetInt32(), Json("rank", "big", "bigger").GetProperty("rank").GetInt32());
        Assert.Equal(Strings(Golden.GetProperty("closer_than")[1].GetProperty("result")), Strings(Json("closer-than", "big", "bigger").GetProperty("keys")));
        var n = Golden.GetProperty("n_similarity")[0];
        Assert.Equal(n.GetProperty("result").GetDouble(), Json("n-similarity", "--first", "paris,rome", "--second", "france,italy").GetProperty("similarity").GetDouble(), 1e-6);
        var rcs = Golden.GetProperty("relative_cosine_similarity")[1];
        Assert.Equal(rcs.GetProperty("result").GetDouble(), Json("relative-cosine-similarity", "big", "bigger", "--top", "3").GetProperty("relative_cosine_similarity").GetDouble(), 1e-6);
    }

    [Fact]
    public void MeanVectorAndDistances_GensimAnswers()
    {
        var m = Golden.GetProperty("get_mean_vector")[4]; // weighted, pre_normalize True, post_normalize True
        Assert.True(m.GetProperty("pre_normalize").GetBoolean() && m.GetProperty("post_normalize").GetBoolean());
        var mean = Json(["mean-vector", .. Strings(m.GetProperty("keys")), "--weights", "0.5,2.0,1.0,-1.5", "--unit"]).GetProperty("vector");
        var expected = m.GetProperty("result").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int j = 0; j < expected.Length; j++) Assert.Equal(expected[j], mean[j].GetDouble(), 1e-6);
        var d = Golden.GetProperty("distances")[0];
        var found = Json(["distances", "paris", .. Strings(d.GetProperty("others"))]).GetProperty("distances");
        var want = d.GetProperty("result").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], found[i].GetProperty("distance").GetDouble(), 1e-6);
    }

    [Fact]
    public void Neighbors_PositiveNegativeAndVector_GensimAnswers()
    {
        var q = Golden.GetProperty("most_similar_pos_neg")[0];
        var v = Golden.GetProperty("most_similar_vector")[1];
        string vector = string.Join(',', v.GetProperty("vector").EnumerateArray().Select(x => x.GetDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        var results = Json("neighbors", "--positive", "paris,germany", "--negative", "france", "--vector", vector).GetProperty("results");
        Assert.Equal("+paris +germany -france", results[0].GetProperty("query").GetString());
        Assert.Equal(q.GetProperty("result").EnumerateArray().Select(p => p[0].GetString()), results[0].GetProperty("neighbors").EnumerateArray().Select(n => n.GetProperty("key").GetString()));
        Assert.Equal("vector", results[1].GetProperty("query").GetString());
        Assert.Equal(v.GetProperty("result").EnumerateArray().Select(p => p[0].GetString()), results[1].GetProperty("neighbors").EnumerateArray().Select(n => n.GetProperty("key").GetString()));
    }

    [Fact]
    public void Neighbors_NothingToSearchOrShortVector_OneLineError()
    {
        var (code, _, error) = VectorsCliTests.Run("neighbors", "--vectors", Small);
        Assert.Equal(1, code);
        Assert.Contains("give words, --positive/--negative keys or a --vector", error);
        (code, _, error) = VectorsCliTests.Run("neighbors", "--vectors", Small, "--vector", "1,2");
        Assert.Equal(1, code);
        Assert.Contains("--vector has 2 values, the vectors have 16 dimensions", error);
    }
}
