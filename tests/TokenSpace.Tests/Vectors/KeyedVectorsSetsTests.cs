using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

/// <summary>
/// The rest of gensim's KeyedVectors against gensim 4's answers (tools/reference/keyedvectors_golden.py): on the
/// small golden set always, and on GloVe 100d when it is in the data cache. Same keys in the same order, |Δ| ≤ 1e-6.
/// </summary>
public class KeyedVectorsSetsTests
{
    const double Tolerance = 1e-6;

    static JsonElement Golden(string name) => JsonDocument.Parse(File.ReadAllText(VectorsGolden.Path(name))).RootElement;

    static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    static double[] Numbers(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"[{i}]: gensim {expected[i]}, ours {actual[i]}");
    }

    static void AssertNeighbors(JsonElement expected, IReadOnlyList<Neighbor> actual)
    {
        Assert.Equal(expected.EnumerateArray().Select(p => p[0].GetString()!), actual.Select(n => n.Key));
        AssertClose(expected.EnumerateArray().Select(p => p[1].GetDouble()).ToArray(), actual.Select(n => n.Similarity).ToArray());
    }

    /// <summary>Every query both golden files hold, on <paramref name="kv"/>.</summary>
    static void AssertQueries(KeyedVectors kv, JsonElement golden)
    {
        foreach (var q in golden.GetProperty("most_similar_pos_neg").EnumerateArray())
        {
            AssertNeighbors(q.GetProperty("result"), kv.MostSimilar(Strings(q.GetProperty("positive")), Strings(q.GetProperty("negative"))));
        }
        foreach (var q in golden.GetProperty("most_similar_vector").EnumerateArray())
        {
            AssertNeighbors(q.GetProperty("result"), kv.SimilarByVector(Numbers(q.GetProperty("vector")).Select(x => (float)x).ToArray()));
        }
        foreach (var q in golden.GetProperty("doesnt_match").EnumerateArray())
        {
            Assert.Equal(q.GetProperty("result").GetString(), kv.DoesntMatch(Strings(q.GetProperty("words"))));
        }
        foreach (var q in golden.GetProperty("rank_by_centrality").EnumerateArray())
        {
            AssertNeighbors(q.GetProperty("result"), kv.RankByCentrality(Strings(q.GetProperty("words")), q.GetProperty("use_norm").GetBoolean()));
        }
        foreach (var q in golden.GetProperty("rank").EnumerateArray())
        {
            Assert.Equal(q.GetProperty("result").GetInt32(), kv.Rank(q.GetProperty("a").GetString()!, q.GetProperty("b").GetString()!));
        }
        foreach (var q in golden.GetProperty("closer_than").EnumerateArray())
        {
            Assert.Equal(Strings(q.GetProperty("result")), kv.CloserThan(q.GetProperty("a").GetString()!, q.GetProperty("b").GetString()!));
        }
        foreach (var q in golden.GetProperty("n_similarity").EnumerateArray())
        {
            AssertClose([q.GetProperty("result").GetDouble()], [kv.NSimilarity(Strings(q.GetProperty("a")), Strings(q.GetProperty("b")))]);
        }
        foreach (var q in golden.GetProperty("get_mean_vector").EnumerateArray())
        {
            var weights = q.GetProperty("weights").ValueKind == JsonValueKind.Null ? null : Numbers(q.GetProperty("weights"));
            AssertClose(Numbers(q.GetProperty("result")), kv.GetMeanVector(Strings(q.GetProperty("keys")), weights,
                q.GetProperty("pre_normalize").GetBoolean(), q.GetProperty("post_normalize").GetBoolean()));
        }
        foreach (var q in golden.GetProperty("distances").EnumerateArray())
        {
            AssertClose(Numbers(q.GetProperty("result")), kv.Distances(q.GetProperty("word").GetString()!, Strings(q.GetProperty("others"))));
        }
        foreach (var q in golden.GetProperty("relative_cosine_similarity").EnumerateArray())
        {
            double ours = kv.RelativeCosineSimilarity(q.GetProperty("a").GetString()!, q.GetProperty("b").GetString()!, q.GetProperty("topn").GetInt32());
            Assert.True(Math.Abs(q.GetProperty("result").GetDouble() - ours) <= Tolerance, $"gensim {q.GetProperty("result")}, ours {ours}");
        }
    }

    [Fact]
    public void Queries_SmallSet_GensimAnswers()
    {
        using var kv = VectorsGolden.Load();
        var golden = Golden("sets.json");
        AssertQueries(kv, golden);
        var all = golden.GetProperty("distances_all");
        AssertClose(Numbers(all.GetProperty("result")), kv.Distances(all.GetProperty("word").GetString()!));
    }

    [Fact]
    public void Queries_GloVe_GensimAnswers()
    {
        string? path = PretrainedVectors.Resolve("glove-100d");
        Assert.SkipWhen(path is null, "glove-100d is not in the data cache (tokenspace data fetch glove-100d)");
        using var kv = VectorsFile.Load(path!);
        AssertQueries(kv, Golden("glove_sets.json"));
    }

    [Fact]
    public void AddVectors_KeepOrReplace_GensimRows()
    {
        using var kv = VectorsGolden.Load();
        var g = Golden("sets.json").GetProperty("add_vectors");
        var keys = Strings(g.GetProperty("keys"));
        var matrix = g.GetProperty("vectors").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(x => (float)x.GetDouble())).ToArray();

        using var kept = kv.AddVectors(keys, matrix);
        var k = g.GetProperty("kept");
        Assert.Equal(k.GetProperty("count").GetInt32(), kept.Count);
        Assert.Equal(k.GetProperty("newword_index").GetInt32(), kept.IndexOf("newword"));
        AssertClose(Numbers(k.GetProperty("paris")), kept.GetVector("paris").ToArray());
        AssertNeighbors(k.GetProperty("most_similar_newword"), kept.MostSimilar("newword", 5));

        using var replaced = kv.AddVectors(keys, matrix, replace: true);
        var r = g.GetProperty("replaced");
        Assert.Equal(r.GetProperty("count").GetInt32(), replaced.Count);
        AssertClose(Numbers(r.GetProperty("paris")), replaced.GetVector("paris").ToArray());
        AssertNeighbors(r.GetProperty("most_similar_paris"), replaced.MostSimilar("paris", 5));
        Assert.Equal(249, kv.Count); // the original set is unchanged
    }

    [Fact]
    public void SortByDescendingFrequency_Counts_GensimOrder()
    {
        using var kv = VectorsGolden.Load();
        var g = Golden("sets.json").GetProperty("sort_by_descending_frequency");
        using var sorted = kv.SortByDescendingFrequency(g.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()).ToArray());
        Assert.Equal(Strings(g.GetProperty("keys")), sorted.Keys);
        AssertClose(Numbers(g.GetProperty("first_vector")), sorted.Row(0).ToArray());
    }

    [Fact]
    public void SortByDescendingFrequency_EqualCounts_ReverseRowOrder()
    {
        using var kv = new KeyedVectors(["a", "b", "c", "d"], [1, 0, 0, 1, 1, 1, 2, 2], 2);
        using var sorted = kv.SortByDescendingFrequency([5, 7, 5, 1]);
        Assert.Equal(["b", "c", "a", "d"], sorted.Keys);
    }

    [Fact]
    public void GetMeanVector_WrongWeightsOrMissingKey_Throws()
    {
        using var kv = VectorsGolden.Load();
        Assert.Throws<ArgumentException>(() => kv.GetMeanVector(["paris", "rome"], [1.0]));
        Assert.Throws<KeyNotFoundException>(() => kv.GetMeanVector(["paris", "nowhere"], ignoreMissing: false));
        Assert.Throws<ArgumentException>(() => kv.GetMeanVector([]));
    }

    [Fact]
    public void AddVectors_WrongShapeOrRepeatedKey_Throws()
    {
        using var kv = VectorsGolden.Load();
        Assert.Throws<ArgumentException>(() => kv.AddVectors(["x"], new float[15]));
        Assert.Throws<ArgumentException>(() => kv.AddVectors(["x", "x"], new float[32]));
    }
}
