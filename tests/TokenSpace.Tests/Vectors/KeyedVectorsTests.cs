using System.Text.Json;
using TokenSpace.Evaluation;
using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

public class KeyedVectorsTests
{
    static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    static void AssertSameNeighbors(JsonElement expected, IReadOnlyList<Neighbor> actual)
    {
        var rows = expected.EnumerateArray().ToList();
        Assert.Equal(rows.Count, actual.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i][0].GetString(), actual[i].Key);
            Assert.True(Math.Abs(rows[i][1].GetDouble() - actual[i].Similarity) < 1e-5, $"{actual[i].Key}: {actual[i].Similarity} vs {rows[i][1]}");
        }
    }

    [Fact]
    public void MostSimilar_RestrictVocabBelowOne_ThrowsNullMeansAll()
    {
        using var kv = VectorsGolden.Load();
        foreach (int bad in new[] { 0, -3 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => kv.MostSimilar("paris", 5, bad));
            Assert.Equal($"restrict-vocab must be at least 1, got {bad} (leave it out to search every key) (Parameter 'restrictVocab')", e.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => kv.MostSimilarCosMul(["paris"], null, 5, bad));
            Assert.Throws<ArgumentOutOfRangeException>(() => kv.EvaluateWordAnalogies(VectorsGolden.Path("questions.txt"), bad));
        }
        Assert.Equal(kv.MostSimilar("paris", 5, kv.Count), kv.MostSimilar("paris", 5, null));
        Assert.Equal(kv.Keys.Skip(1).Take(2).Order(StringComparer.Ordinal), kv.MostSimilar(kv.Keys[0], 5, 3).Select(n => n.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MostSimilar_GensimGolden_SameKeysAndScores()
    {
        using var kv = VectorsGolden.Load();
        foreach (var q in VectorsGolden.Expected.GetProperty("most_similar").EnumerateArray())
        {
            int? restrict = q.GetProperty("restrict_vocab").ValueKind == JsonValueKind.Null ? null : q.GetProperty("restrict_vocab").GetInt32();
            var found = kv.MostSimilar(Strings(q.GetProperty("positive")), Strings(q.GetProperty("negative")), q.GetProperty("topn").GetInt32(), restrict);
            AssertSameNeighbors(q.GetProperty("result"), found);
        }
    }

    [Fact]
    public void MostSimilarCosMul_GensimGolden_SameKeysAndScores()
    {
        using var kv = VectorsGolden.Load();
        foreach (var q in VectorsGolden.Expected.GetProperty("cosmul").EnumerateArray())
        {
            var found = kv.MostSimilarCosMul(Strings(q.GetProperty("positive")), Strings(q.GetProperty("negative")), q.GetProperty("topn").GetInt32());
            AssertSameNeighbors(q.GetProperty("result"), found);
        }
    }

    [Fact]
    public void SimilarityDistanceRank_GensimGolden_SameValues()
    {
        using var kv = VectorsGolden.Load();
        var e = VectorsGolden.Expected;
        foreach (var s in e.GetProperty("similarity").EnumerateArray()) Assert.Equal(s[2].GetDouble(), kv.Similarity(s[0].GetString()!, s[1].GetString()!), 1e-6);
        foreach (var s in e.GetProperty("distance").EnumerateArray()) Assert.Equal(s[2].GetDouble(), kv.Distance(s[0].GetString()!, s[1].GetString()!), 1e-6);
        foreach (var s in e.GetProperty("euclidean").EnumerateArray())
        {
            Assert.Equal(s[2].GetDouble(), kv.Distance(s[0].GetString()!, s[1].GetString()!, DistanceMetric.Euclidean), 1e-5);
        }
        foreach (var s in e.GetProperty("rank").EnumerateArray()) Assert.Equal(s[2].GetInt32(), kv.Rank(s[0].GetString()!, s[1].GetString()!));
        foreach (var s in e.GetProperty("doesnt_match").EnumerateArray()) Assert.Equal(s[1].GetString(), kv.DoesntMatch(Strings(s[0])));
        foreach (var s in e.GetProperty("closest_to").EnumerateArray()) Assert.Equal(s[2].GetString(), kv.ClosestTo(s[0].GetString()!, Strings(s[1])));
    }

    [Fact]
    public void MostSimilar_QueryWords_LeftOut()
    {
        using var kv = VectorsGolden.Load();
        var found = kv.MostSimilar(["berlin", "italy"], ["germany"], topN: 20);
        Assert.DoesNotContain(found, n => n.Key is "berlin" or "italy" or "germany");
        Assert.Equal(20, found.Count);
    }

    [Fact]
    public void MostSimilar_UnknownKey_NamesKeyAndCloseSpellings()
    {
        using var kv = VectorsGolden.Load();
        var e = Assert.Throws<KeyNotFoundException>(() => kv.MostSimilar("pariss"));
        Assert.Contains("'pariss'", e.Message);
        Assert.Contains("'paris'", e.Message);
        Assert.Contains("'Paris'", Assert.Throws<KeyNotFoundException>(() => kv.Similarity("PARIS", "rome")).Message);
    }

    [Fact]
    public void MostSimilarBatch_ManyQueries_SameAsOneByOne()
    {
        using var kv = VectorsGolden.Load();
        var queries = new List<(IReadOnlyList<string>, IReadOnlyList<string>)> { (["paris"], []), (["berlin", "italy"], ["germany"]), (["café"], ["big"]) };
        var batch = kv.MostSimilarBatch(queries, 6);
        for (int q = 0; q < queries.Count; q++) Assert.Equal(kv.MostSimilar(queries[q].Item1, queries[q].Item2, 6), batch[q]);
    }

    [Fact]
    public void SimilarByVector_OwnVector_FindsItselfFirst()
    {
        using var kv = VectorsGolden.Load();
        var found = kv.SimilarByVector(kv.GetVector("rome"), 3);
        Assert.Equal("rome", found[0].Key);
        Assert.Equal(1f, found[0].Similarity, 1e-6f);
    }

    [Fact]
    public void UnitNormalizeAll_Afterwards_UnitRowsAndSameNeighbors()
    {
        using var kv = VectorsGolden.Load();
        var before = kv.MostSimilar("tokyo", 5);
        kv.UnitNormalizeAll();
        Assert.All(kv.Norms.ToArray(), n => Assert.Equal(1f, n, 1e-5f));
        Assert.Equal(before.Select(n => n.Key), kv.MostSimilar("tokyo", 5).Select(n => n.Key));
    }

    [Fact]
    public void Distance_Euclidean_IsNormOfDifference()
    {
        using var kv = new KeyedVectors(["a", "b"], [0f, 3f, 4f, 0f], 2);
        Assert.Equal(5f, kv.Distance("a", "b", DistanceMetric.Euclidean));
        Assert.Equal(1f, kv.Distance("a", "b"), 1e-7f);
    }

    [Fact]
    public void DoesntMatch_UnknownKeys_IgnoredAndHandComputed()
    {
        // Unit vectors: a = (1, 0), b = (0.8, 0.6), c = (0, 1); mean ∝ (1.8, 1.6): dots 0.747, 0.996, 0.664 → c.
        using var kv = new KeyedVectors(["a", "b", "c"], [2f, 0f, 4f, 3f, 0f, 5f], 2);
        Assert.Equal("c", kv.DoesntMatch(["a", "nope", "b", "c"]));
        Assert.Equal("a", kv.DoesntMatch(["a", "c", "c", "b", "zzz"])); // c counted twice: mean ∝ (1.8, 2.6), dots 0.57, 0.82, 0.95
    }

    [Fact]
    public void DoesntMatch_NoKnownKey_Throws()
    {
        using var kv = new KeyedVectors(["a", "b"], [1f, 0f, 0f, 1f], 2);
        Assert.Throws<ArgumentException>(() => kv.DoesntMatch(["x", "y"]));
        Assert.Throws<ArgumentException>(() => kv.DoesntMatch([]));
    }

    [Fact]
    public void Constructor_DuplicateKey_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new KeyedVectors(["a", "b", "a"], new float[6], 2));
        Assert.Contains("'a'", e.Message);
    }

    [Fact]
    public void MostSimilar_GloVe_KingManWomanIsQueen()
    {
        string path = TestData.Pretrained("glove-100d");
        using var kv = VectorsFile.Load(path);
        var found = kv.MostSimilar(["king", "woman"], ["man"], topN: 1);
        Assert.Equal("queen", found[0].Key);
        Assert.Equal(0.7699, found[0].Similarity, 1e-3);
        Assert.Equal("cereal", kv.DoesntMatch(["breakfast", "cereal", "dinner", "lunch"]));
    }
}
