using System.Text.Json;
using TokenSpace.Evaluation;
using TokenSpace.Formats;
using TokenSpace.Tests.Vectors;

namespace TokenSpace.Tests.Evaluation;

public class EvaluationTests
{
    [Theory]
    [InlineData("default", 300000, true, false)]
    [InlineData("dummy4unknown", 300000, true, true)]
    [InlineData("case_sensitive", 300000, false, false)]
    [InlineData("restrict_40", 40, true, false)]
    public void EvaluateWordAnalogies_GensimGolden_IdenticalCounts(string setting, int restrict, bool caseInsensitive, bool dummy)
    {
        using var kv = VectorsGolden.Load();
        var expected = VectorsGolden.Expected.GetProperty("analogies").GetProperty(setting);
        var r = kv.EvaluateWordAnalogies(VectorsGolden.Path("questions.txt"), restrict, caseInsensitive, dummy);
        var sections = expected.GetProperty("sections").EnumerateArray().ToList();
        var actual = r.Sections.Append(new AnalogySection("Total accuracy", r.Correct, r.Incorrect)).ToList();
        Assert.Equal(sections.Count, actual.Count);
        for (int i = 0; i < sections.Count; i++)
        {
            Assert.Equal(sections[i].GetProperty("section").GetString(), actual[i].Section);
            Assert.Equal(sections[i].GetProperty("correct").GetInt32(), actual[i].Correct);
            Assert.Equal(sections[i].GetProperty("incorrect").GetInt32(), actual[i].Incorrect);
        }
        Assert.Equal(expected.GetProperty("accuracy").GetDouble(), r.Accuracy, 1e-12);
    }

    [Theory]
    [InlineData("default", false)]
    [InlineData("dummy4unknown", true)]
    public void EvaluateWordPairs_GensimGolden_SameCorrelations(string setting, bool dummy)
    {
        using var kv = VectorsGolden.Load();
        var expected = VectorsGolden.Expected.GetProperty("pairs").GetProperty(setting);
        var r = kv.EvaluateWordPairs(VectorsGolden.Path("pairs.tsv"), dummy4unknown: dummy);
        Assert.True(Math.Abs(expected.GetProperty("pearson").GetDouble() - r.Pearson) < 1e-6, $"pearson {r.Pearson}");
        Assert.True(Math.Abs(expected.GetProperty("spearman").GetDouble() - r.Spearman) < 1e-6, $"spearman {r.Spearman}");
        Assert.Equal(expected.GetProperty("oov_ratio").GetDouble(), r.OovRatio, 1e-9);
    }

    [Fact]
    public void Ranks_Ties_Averaged()
    {
        Assert.Equal([1.0, 2.5, 2.5, 4.0, 6.0, 6.0, 6.0], WordPairs.Ranks([1, 2, 2, 3, 5, 5, 5]));
        Assert.Equal(1.0, WordPairs.Spearman([1, 2, 3], [10, 20, 1000]), 12);
        Assert.Equal(-1.0, WordPairs.Pearson([1, 2, 3], [3, 2, 1]), 12);
    }

    [Fact]
    public void EvaluateWordAnalogies_QuestionBeforeSection_ThrowsWithLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tokenspace-q-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "paris france rome italy\n");
        try
        {
            using var kv = VectorsGolden.Load();
            var e = Assert.Throws<FileFormatException>(() => kv.EvaluateWordAnalogies(path));
            Assert.Equal(1, e.Line);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PythonUpper_SharpS_ExpandsLikePython()
    {
        Assert.Equal("STRASSE", WordAnalogies.PythonUpper("straße"));
        Assert.Equal("CAFÉ", WordAnalogies.PythonUpper("café"));
    }

    [Fact]
    public void EvaluateWordPairs_GloVeWordSim_GensimValues()
    {
        string path = TestData.Pretrained("glove-100d");
        string pairs = TestData.Dataset("wordsim353");
        using var kv = VectorsFile.Load(path);
        var r = kv.EvaluateWordPairs(pairs);
        // gensim 4.2 on the same vectors (tools/reference/gensim_bench.py): 0.5483502357, 0.5327354323, 0.0.
        Assert.True(Math.Abs(r.Pearson - 0.5483502357) < 1e-4);
        Assert.True(Math.Abs(r.Spearman - 0.5327354323) < 1e-4);
        Assert.Equal(0.0, r.OovRatio);
    }
}
