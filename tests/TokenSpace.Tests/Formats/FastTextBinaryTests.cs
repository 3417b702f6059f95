using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tests.Cli;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Formats;

/// <summary>
/// fastText <c>.bin</c> models: the words' vectors and the vectors of words outside the vocabulary, against
/// what gensim 4.2's <c>load_facebook_model</c> computes for the small model of tools/reference/fasttext_golden.py.
/// </summary>
public sealed class FastTextBinaryTests : IDisposable
{
    const double Tolerance = 1e-6;

    static readonly string Model = TestData.Golden("fasttext_tiny.bin");
    static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(TestData.Golden("fasttext_tiny.json"))).RootElement;

    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-fasttext-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    static double MaxDiff(ReadOnlySpan<float> a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        double worst = 0;
        for (int i = 0; i < b.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    [Fact]
    public void Load_GensimModel_WordVectorsMatchGensim()
    {
        using var kv = VectorsFile.Load(Model);
        var vocabulary = Golden.GetProperty("vocabulary").EnumerateArray().Select(v => v.GetString()!).ToArray();
        Assert.Equal(vocabulary, kv.Keys);
        Assert.Equal(8, kv.Dimensions);
        double worst = Golden.GetProperty("in_vocabulary").EnumerateObject().Max(p => MaxDiff(kv.GetVector(p.Name), Floats(p.Value)));
        Assert.True(worst <= Tolerance, $"max |Δ| {worst}");
        Assert.Equal((3, 5, 2000), (kv.Subwords!.MinN, kv.Subwords.MaxN, kv.Subwords.Buckets));
    }

    [Fact]
    public void GetVector_OutOfVocabularyWord_MatchesGensim()
    {
        using var kv = VectorsFile.Load(Model);
        foreach (var p in Golden.GetProperty("oov").EnumerateObject())
        {
            Assert.False(kv.Contains(p.Name));
            double diff = MaxDiff(kv.GetVector(p.Name), Floats(p.Value));
            Assert.True(diff <= Tolerance, $"{p.Name}: max |Δ| {diff}");
            Assert.Equal(kv.GetVector(p.Name).ToArray(), kv.Subwords!.WordVector(p.Name));
        }
    }

    [Fact]
    public void MostSimilar_OutOfVocabularyWord_MatchesGensim()
    {
        using var kv = VectorsFile.Load(Model);
        foreach (var p in Golden.GetProperty("most_similar").EnumerateObject())
        {
            var expected = p.Value.EnumerateArray().Select(e => (Key: e[0].GetString()!, Score: e[1].GetDouble())).ToList();
            var found = kv.MostSimilar(p.Name, topN: expected.Count);
            Assert.Equal(expected.Select(e => e.Key), found.Select(n => n.Key));
            for (int i = 0; i < expected.Count; i++) Assert.True(Math.Abs(found[i].Similarity - expected[i].Score) <= Tolerance, $"{p.Name} #{i}");
        }
    }

    [Fact]
    public void Similarity_OutOfVocabularyWords_CosineOfTheirNgramVectors()
    {
        using var kv = VectorsFile.Load(Model);
        var a = Floats(Golden.GetProperty("oov").GetProperty("kingdoms"));
        var b = Floats(Golden.GetProperty("oov").GetProperty("queenish"));
        double cos = VectorMath.DotScalar(a, b) / (VectorMath.NormScalar(a) * VectorMath.NormScalar(b));
        Assert.Equal(cos, kv.Similarity("kingdoms", "queenish"), 1e-6);
    }

    [Fact]
    public void Detect_FastTextModelAndWord2VecBinary_TellsThemApart()
    {
        Assert.Equal(VectorFormat.FastTextBinary, VectorsFile.Detect(Model));
        string w2v = Path.Combine(dir, "w2v.bin");
        using (var kv = VectorsFile.Load(Model)) VectorsFile.Save(kv, w2v, VectorFormat.Word2VecBinary);
        Assert.Equal(VectorFormat.Word2VecBinary, VectorsFile.Detect(w2v));
    }

    [Fact]
    public void Hash_AsciiAndNonAscii_Fnv1aWithSignExtendedBytes()
    {
        Assert.Equal(0xE40C292Cu, SubwordVectors.Hash("a"u8)); // FNV-1a 32 of "a"
        uint plain = 2166136261;
        foreach (byte b in "é"u8) plain = (plain ^ b) * 16777619;
        Assert.NotEqual(plain, SubwordVectors.Hash("é"u8));
    }

    [Fact]
    public void Load_Float16StorageAndLimit_KeepOutOfVocabularyVectors()
    {
        using var half = VectorsFile.Load(Model, options: new() { Storage = VectorStorage.Float16, Limit = 10 });
        Assert.Equal(10, half.Count);
        Assert.Equal(VectorStorage.Float16, half.Storage);
        double diff = MaxDiff(half.GetVector("kingdoms"), Floats(Golden.GetProperty("oov").GetProperty("kingdoms")));
        Assert.True(diff <= Tolerance, $"max |Δ| {diff}");
    }

    [Fact]
    public void GetVector_AfterDispose_ObjectDisposedException()
    {
        var kv = VectorsFile.Load(Model);
        kv.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kv.GetVector("kingdoms").ToArray());
    }

    [Fact]
    public void Neighbors_Cli_OutOfVocabularyWord()
    {
        var (code, output, error) = VectorsCliTests.Run("neighbors", "--vectors", Model, "kingdoms", "--top", "3", "--json");
        Assert.True(code == 0, error);
        var neighbors = JsonDocument.Parse(output).RootElement.GetProperty("results")[0].GetProperty("neighbors");
        Assert.Equal(Golden.GetProperty("most_similar").GetProperty("kingdoms")[0][0].GetString(), neighbors[0].GetProperty("key").GetString());
    }

    static FastTextFiles.Layout Small(bool quantized = false)
    {
        string[] words = ["the", "king", "é"];
        var input = Enumerable.Range(0, (3 + 8) * 4).Select(i => (float)Math.Sin(i)).ToArray();
        return FastTextFiles.Write(words, dim: 4, bucket: 8, minn: 2, maxn: 3, input, quantized);
    }

    [Fact]
    public void Read_QuantizedModel_RefusedSayingSo()
    {
        var layout = Small(quantized: true);
        string path = Path.Combine(dir, "q.ftz");
        File.WriteAllBytes(path, layout.Bytes);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Contains("quantized", e.Message);
        Assert.Equal(layout.MatrixHeader, e.ByteOffset);
    }

    [Fact]
    public void Read_SmallModel_WordVectorIsMeanOfWordAndNgramRows()
    {
        var layout = Small();
        string path = Path.Combine(dir, "small.bin");
        File.WriteAllBytes(path, layout.Bytes);
        using var kv = VectorsFile.Load(path);
        // "<é>" has the 2-grams "<é", "é>" and the 3-gram "<é>" (characters, not bytes).
        var rows = kv.Subwords!.NgramRows("é");
        Assert.Equal(3, rows.Count);
        var input = Enumerable.Range(0, 11 * 4).Select(i => (float)Math.Sin(i)).ToArray();
        var expected = new float[4];
        for (int j = 0; j < 4; j++)
        {
            double sum = input[2 * 4 + j];
            foreach (int r in rows) sum += input[(3 + r) * 4 + j];
            expected[j] = (float)(sum / 4);
        }
        Assert.Equal(expected, kv.GetVector("é").ToArray());
    }

    public static TheoryData<string> HostileCases => ["truncated header", "truncated dictionary", "truncated matrix", "version 13", "entry count 2^31-1",
        "matrix rows", "matrix dims", "NaN", "label among words", "pruneidx -5", "word count beyond entries"];

    [Theory]
    [MemberData(nameof(HostileCases))]
    public void Read_HostileFile_LocatedFileFormatException(string what)
    {
        var layout = Small();
        var b = layout.Bytes;
        byte[] bytes = what switch
        {
            "truncated header" => b[..60],
            "truncated dictionary" => b[..100],
            "truncated matrix" => b[..(layout.MatrixData + 20)],
            "version 13" => Patch(b, 4, 13),
            "entry count 2^31-1" => Patch(b, 64, int.MaxValue),
            "matrix rows" => FastTextFiles.With64(b, layout.MatrixHeader + 1, 1L << 40),
            "matrix dims" => FastTextFiles.With64(b, layout.MatrixHeader + 9, 5),
            "NaN" => PatchFloat(b, layout.MatrixData + 4 * 5, float.NaN),
            "label among words" => PatchByte(b, 92 + 4 + 8, 1),
            "pruneidx -5" => FastTextFiles.With64(b, 84, -5),
            _ => Patch(b, 68, 5),
        };
        string path = Path.Combine(dir, "hostile.bin");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, VectorFormat.FastTextBinary));
        Assert.NotNull(e.ByteOffset);
        Assert.StartsWith(path, e.Message);
    }

    static byte[] Patch(byte[] b, int at, int value)
    {
        var copy = b.ToArray();
        BitConverter.GetBytes(value).CopyTo(copy, at);
        return copy;
    }

    static byte[] PatchFloat(byte[] b, int at, float value) => Patch(b, at, BitConverter.SingleToInt32Bits(value));

    static byte[] PatchByte(byte[] b, int at, byte value)
    {
        var copy = b.ToArray();
        copy[at] = value;
        return copy;
    }
}
