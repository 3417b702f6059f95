using System.Text;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tests.Vectors;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Formats;

public sealed class VectorsFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-vectors-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Write(string name, string text) => WriteBytes(name, Encoding.UTF8.GetBytes(text));

    string WriteBytes(string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static void AssertSame(KeyedVectors expected, KeyedVectors actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        Assert.Equal(expected.Dimensions, actual.Dimensions);
        Assert.Equal(expected.Vectors.ToArray(), actual.Vectors.ToArray());
    }

    [Theory]
    [InlineData("small.bin", VectorFormat.Word2VecBinary)]
    [InlineData("small.txt", VectorFormat.Word2VecText)]
    [InlineData("small.glove.txt", VectorFormat.GloVe)]
    [InlineData("small_f4_v1.npy", VectorFormat.Npy)]
    public void Load_FileWrittenByGensimOrNumpy_DetectedAndSameVectors(string name, VectorFormat format)
    {
        string path = VectorsGolden.Path(name);
        Assert.Equal(format, VectorsFile.Detect(path));
        using var expected = VectorsGolden.Load();
        using var kv = VectorsFile.Load(path);
        Assert.Equal(249, kv.Count);
        Assert.Contains("straße", kv.Keys);
        AssertSame(expected, kv);
    }

    [Fact]
    public void Load_NpyFloat16AndFloat64_ConvertedToFloat32()
    {
        using var expected = VectorsGolden.Load();
        using var f2 = VectorsFile.Load(VectorsGolden.Path("small_f2_v2.npy"));
        using var f8 = VectorsFile.Load(VectorsGolden.Path("small_f8_v3.npy"));
        Assert.Equal(expected.Vectors.ToArray().Select(v => (float)(Half)v), f2.Vectors.ToArray());
        AssertSame(expected, f8);
        Assert.Equal("float16", VectorsFile.StoredDtype(VectorsGolden.Path("small_f2_v2.npy"), VectorFormat.Npy));
        Assert.Equal("float64", VectorsFile.StoredDtype(VectorsGolden.Path("small_f8_v3.npy"), VectorFormat.Npy));
    }

    [Theory]
    [InlineData(VectorFormat.Word2VecBinary, "v.bin")]
    [InlineData(VectorFormat.Word2VecText, "v.txt")]
    [InlineData(VectorFormat.GloVe, "v.glove")]
    [InlineData(VectorFormat.FastText, "v.vec")]
    [InlineData(VectorFormat.Native, "v.tsvec")]
    public void Save_ThenLoad_RoundTripsBitForBit(VectorFormat format, string name)
    {
        using var kv = VectorsGolden.Load();
        string path = Path.Combine(dir, name);
        VectorsFile.Save(kv, path, format);
        Assert.Equal(format, VectorsFile.FormatFromExtension(path));
        using var back = VectorsFile.Load(path);
        AssertSame(kv, back);
        Assert.Equal(format == VectorFormat.Native, back.IsMemoryMapped);
        Assert.Single(Directory.GetFiles(dir));
    }

    [Theory]
    [InlineData(VectorFormat.Npy, "v.npy")]
    [InlineData(VectorFormat.Safetensors, "v.safetensors")]
    public void Save_MatrixWithKeysFile_RoundTripsBitForBit(VectorFormat format, string name)
    {
        using var kv = VectorsGolden.Load();
        string path = Path.Combine(dir, name);
        VectorsFile.Save(kv, path, format);
        Assert.Equal(format, VectorsFile.FormatFromExtension(path));
        Assert.Equal(kv.Keys, File.ReadAllLines(KeysFile.Beside(path)));
        using var back = VectorsFile.Load(path);
        AssertSame(kv, back);
        Assert.Equal(2, Directory.GetFiles(dir).Length);
    }

    [Fact]
    public void Save_Npy_SameBytesAsNumpy()
    {
        // small_f4_v1.npy and its keys were written by np.save (tools/reference): the same bytes, header padding included.
        using var kv = VectorsGolden.Load();
        string path = Path.Combine(dir, "v.npy");
        VectorsFile.Save(kv, path, VectorFormat.Npy);
        Assert.Equal(File.ReadAllBytes(VectorsGolden.Path("small_f4_v1.npy")), File.ReadAllBytes(path));
        Assert.Equal(File.ReadAllBytes(VectorsGolden.Path("small_f4_v1.keys.txt")), File.ReadAllBytes(KeysFile.Beside(path)));
    }

    [Theory]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("")]
    public void Save_NpyKeyWithLineBreakOrEmpty_ThrowsAndWritesNothing(string key)
    {
        using var kv = new KeyedVectors([key, "ok"], [1f, 2f], 1);
        var e = Assert.Throws<ArgumentException>(() => VectorsFile.Save(kv, Path.Combine(dir, "v.npy"), VectorFormat.Npy));
        Assert.Contains("one key per line", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Save_WinkJson_RefusedNamingWritableFormats()
    {
        using var kv = VectorsGolden.Load();
        Assert.Throws<ArgumentException>(() => VectorsFile.Save(kv, Path.Combine(dir, "v.json"), VectorFormat.WinkJson));
        Assert.DoesNotContain("wink-json", VectorsFile.WritableFormats);
        Assert.DoesNotContain("projector", VectorsFile.ReadableFormats);
        Assert.Contains("npy", VectorsFile.WritableFormats);
        Assert.Contains("safetensors", VectorsFile.WritableFormats);
    }

    [Fact]
    public void Dispose_MappedVectors_LaterAccessThrowsAndDisposeIsIdempotent()
    {
        using var kv = VectorsGolden.Load();
        string path = Path.Combine(dir, "v.tsvec");
        VectorsFile.Save(kv, path, VectorFormat.Native);
        var back = VectorsFile.Load(path);
        Assert.True(back.IsMemoryMapped);
        back.Dispose();
        back.Dispose();
        // Before, these read the unmapped pages and crashed the process.
        Assert.Throws<ObjectDisposedException>(() => back.Vectors.Length);
        Assert.Throws<ObjectDisposedException>(() => back.GetVector(kv.Keys[0]).Length);
        Assert.Throws<ObjectDisposedException>(() => back.MostSimilar(kv.Keys[0]));

        var mapped = new MappedFile(path);
        mapped.Dispose();
        mapped.Dispose(); // released the view's pointer twice before: ObjectDisposedException / handle corruption
    }

    [Fact]
    public void Save_ProjectorTsv_WritesVectorsAndMetadata()
    {
        using var kv = VectorsGolden.Load();
        VectorsFile.Save(kv, dir, VectorFormat.ProjectorTsv);
        var vectors = File.ReadAllLines(Path.Combine(dir, "vectors.tsv"));
        var metadata = File.ReadAllLines(Path.Combine(dir, "metadata.tsv"));
        Assert.Equal(kv.Keys, metadata);
        Assert.Equal(kv.Count, vectors.Length);
        Assert.Equal(kv.Row(5).ToArray(), vectors[5].Split('\t').Select(s => float.Parse(s, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Save_KeyWithSpace_ThrowsAndKeepsOldFile()
    {
        string path = Write("v.txt", "old");
        using var kv = new KeyedVectors(["a b"], [1f], 1);
        Assert.Throws<ArgumentException>(() => VectorsFile.Save(kv, path, VectorFormat.Word2VecText));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Theory]
    [InlineData("small.bin")]
    [InlineData("small.txt")]
    [InlineData("small.glove.txt")]
    [InlineData("small_f4_v1.npy")]
    public void Load_Limit_FirstRowsOnly(string name)
    {
        using var all = VectorsGolden.Load();
        using var kv = VectorsFile.Load(VectorsGolden.Path(name), options: new VectorsLoadOptions { Limit = 10 });
        Assert.Equal(all.Keys.Take(10), kv.Keys);
        Assert.Equal(all.Vectors[..160].ToArray(), kv.Vectors.ToArray());
    }

    [Fact]
    public void Load_NativeWithLimit_FirstRowsOnly()
    {
        using var all = VectorsGolden.Load();
        string path = Path.Combine(dir, "v.tsvec");
        VectorsFile.Save(all, path, VectorFormat.Native);
        using var kv = VectorsFile.Load(path, options: new VectorsLoadOptions { Limit = 3 });
        Assert.Equal(all.Keys.Take(3), kv.Keys);
    }

    [Fact]
    public void Load_TruncatedSafetensors_ReportsBrokenHeader()
    {
        string full = Path.Combine(dir, "full.safetensors");
        SafetensorsFile.Write(full, [("wte.weight", [2L, 2L], new float[] { 1, 2, 3, 4 })]);
        byte[] bytes = File.ReadAllBytes(full);
        long header = BitConverter.ToInt64(bytes, 0);
        string path = WriteBytes("cut.safetensors", bytes[..20]);
        File.Delete(full);

        Assert.Equal(VectorFormat.Safetensors, VectorsFile.Detect(path));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains($"header length {header} does not fit in a file of 20 bytes", e.Message);
    }

    [Theory]
    [InlineData("3 99999999999\na 1 2\n", "header says 99999999999 dimensions; expected 1 to 2147483647")]
    [InlineData("3 0\na 1 2\n", "header says 0 dimensions; expected 1 to 2147483647")]
    [InlineData("99999999999999999999 2\na 1 2\n", "header says 99999999999999999999 rows, more than a file can hold")]
    public void Load_TwoIntegersBadAsHeader_ReportsTheHeader(string text, string message)
    {
        string path = Write("v.txt", text);
        Assert.Equal(VectorFormat.Word2VecText, VectorsFile.Detect(path));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Equal(1, e.Line);
        Assert.Equal(message, e.Cause);
    }

    [Fact]
    public void Load_FastTextTrailingSpacesAndCrLf_Read()
    {
        // fastText ends every row with a space; files from Windows end lines with CR LF.
        string path = Write("v.vec", "2 2 \r\na 1 2 \r\nb 3 -4e-1 \r\n");
        Assert.Equal(VectorFormat.Word2VecText, VectorsFile.Detect(path));
        using var kv = VectorsFile.Load(path);
        Assert.Equal(["a", "b"], kv.Keys);
        Assert.Equal([1f, 2f, 3f, -0.4f], kv.Vectors.ToArray());
    }

    [Fact]
    public void Load_FormatOverride_ReadsAsForced()
    {
        // "2 3" as first line reads as a header; forced GloVe treats it as the row "2" with one value.
        string path = Write("v.txt", "2 3\nx 1 2 3\ny 4 5 6\n");
        using var detected = VectorsFile.Load(path);
        Assert.Equal(["x", "y"], detected.Keys);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, VectorFormat.GloVe));
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void Load_InvalidUtf8WithReplace_ReplacementCharacter()
    {
        var bytes = Encoding.UTF8.GetBytes("1 2\ncaf").Concat(new byte[] { 0xE9 }).Concat(Encoding.UTF8.GetBytes(" 1 2\n")).ToArray();
        string path = WriteBytes("v.txt", bytes);
        using var kv = VectorsFile.Load(path, options: new VectorsLoadOptions { Utf8Errors = Utf8Errors.Replace });
        Assert.Equal("caf\uFFFD", kv.Keys[0]);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Equal(2, e.Line);
        Assert.Contains("UTF-8", e.Message);
    }

    /// <summary>Text files: content, expected 1-based line, a fragment of the message.</summary>
    public static TheoryData<string, int, string> BadText => new()
    {
        { "3 2\na 1 2\nb 3 4\n", 4, "end of file after 2 of 3 rows" },
        { "x 2\na 1 2\n", 2, "expected 1 values after the key, found 2; do rows have different lengths" },
        { "2 3\na 1 2\nb 3 4\n", 2, "expected 3 values after the key, found 2; is the dimension in the header wrong" },
        { "2 2\na 1 2\nb 3 4 5\n", 3, "found 3" },
        { "1 2\na 1 NaN\n", 2, "NaN and infinity" },
        { "1 2\na inf 1\n", 2, "NaN and infinity" },
        { "1 2\na 1e39 1\n", 2, "NaN and infinity" },
        { "1 2\na 1 x2\n", 2, "not a number" },
        { "2 2\na 1 2\na 3 4\n", 3, "duplicate key 'a' (first at line 2)" },
        { "1 2\na 1 2\nb 3 4\n", 3, "more rows than the 1 the header declares" },
        { "3 2\na 1 2\n\nb 3 4\n", 3, "empty line" },
        { "2 2\na 1  2\nb 3 4\n", 2, "two spaces" },
        { "2 2\na\nb 3 4\n", 2, "expected a key and 2 values" },
    };

    [Theory]
    [MemberData(nameof(BadText))]
    public void Load_MalformedText_ThrowsWithLine(string content, int line, string message)
    {
        string path = Write("bad.txt", content);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(line, e.Line);
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"{path}:{line}: ", e.Message);
    }

    [Fact]
    public void Load_TextOfManyParseUnits_RowsInOrderAndBadRowNamedByLine()
    {
        // 10,000 rows are three parse units of 4,096: each unit reads its lines from where the first pass noted it starts.
        var rows = Enumerable.Range(0, 10_000).Select(i => $"w{i} {i} -{i}\n").ToArray();
        using (var kv = VectorsFile.Load(Write("many.w2v.txt", "10000 2\n" + string.Concat(rows))))
        {
            Assert.Equal(10_000, kv.Count);
            Assert.Equal("w9999", kv.Keys[9999]);
            Assert.Equal([8200f, -8200f], kv.GetVector("w8200").ToArray());
        }
        rows[9000] = "w9000 1\n";
        string path = Write("bad-many.w2v.txt", "10000 2\n" + string.Concat(rows));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Equal(9002, e.Line);
    }

    [Fact]
    public void Load_ForcedWord2VecWithoutHeader_ThrowsOnHeader()
    {
        string path = Write("bad.txt", "a 1 2\nb 3 4\n");
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, VectorFormat.Word2VecText));
        Assert.Equal(1, e.Line);
        Assert.Contains("is this a GloVe file without header?", e.Message);
    }

    [Fact]
    public void Load_MalformedGloVe_RowLengthDiffers()
    {
        string path = Write("bad.glove", "a 1 2 3\nb 1 2 3\nc 1 2\n");
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Equal(3, e.Line);
        Assert.Contains("does a key contain a space", e.Message);
    }

    static byte[] Binary(string header, params (string Key, float[] Values)[] rows)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(header));
        foreach (var (key, values) in rows)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(key + " "));
            foreach (float v in values) bytes.AddRange(BitConverter.GetBytes(v));
            bytes.Add((byte)'\n');
        }
        return bytes.ToArray();
    }

    [Fact]
    public void Load_BinaryTruncated_ThrowsWithByteOffset()
    {
        var full = Binary("2 2\n", ("a", [1f, 2f]), ("b", [3f, 4f]));
        string path = WriteBytes("bad.bin", full[..^3]);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, VectorFormat.Word2VecBinary));
        Assert.Equal(4 + 2 + 8 + 1 + 2, e.ByteOffset);
        Assert.Contains("unexpected end of file in the vector of row 2 of 2", e.Message);
    }

    [Fact]
    public void Load_BinaryCountTooHigh_ThrowsTruncated()
    {
        string path = WriteBytes("bad.bin", Binary("3 2\n", ("a", [1f, 2f]), ("b", [3f, 4f])));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, VectorFormat.Word2VecBinary));
        Assert.Contains("is the count in the header wrong", e.Message);
    }

    [Fact]
    public void Load_BinaryNaN_ThrowsAtTheValue()
    {
        string path = WriteBytes("bad.bin", Binary("2 2\n", ("a", [1f, 2f]), ("b", [3f, float.NaN])));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Equal(4 + 2 + 8 + 1 + 2 + 4, e.ByteOffset);
    }

    [Fact]
    public void Load_BinaryDuplicateKey_Throws()
    {
        string path = WriteBytes("bad.bin", Binary("2 2\n", ("a", [1f, 2f]), ("a", [3f, 4f])));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Contains("duplicate key 'a'", e.Message);
        Assert.Equal(15, e.ByteOffset);
    }

    [Fact]
    public void Load_BinaryExtraData_Throws()
    {
        string path = WriteBytes("bad.bin", Binary("1 2\n", ("a", [1f, 2f]), ("b", [3f, 4f])));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, VectorFormat.Word2VecBinary));
        Assert.Contains("after the last of the 1 rows", e.Message);
    }

    [Fact]
    public void Load_BinaryInvalidUtf8Key_ThrowsAtTheByte()
    {
        var bytes = Binary("1 2\n", ("ab", [1f, 2f]));
        bytes[5] = 0xFF;
        string path = WriteBytes("bad.bin", bytes);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, VectorFormat.Word2VecBinary));
        Assert.Equal(5, e.ByteOffset);
    }

    [Fact]
    public void Load_NativeTruncated_Throws()
    {
        using var kv = VectorsGolden.Load();
        string path = Path.Combine(dir, "v.tsvec");
        VectorsFile.Save(kv, path, VectorFormat.Native);
        var bytes = File.ReadAllBytes(path);
        WriteBytes("cut.tsvec", bytes[..^100]);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(Path.Combine(dir, "cut.tsvec")));
        Assert.Contains("truncated", e.Message);
        Assert.NotNull(e.ByteOffset);
    }

    [Fact]
    public void Load_NativeDuplicateKey_ThrowsOnFirstLookup()
    {
        using var kv = new KeyedVectors(["ab", "cd"], [1f, 2f], 1);
        string path = Path.Combine(dir, "v.tsvec");
        VectorsFile.Save(kv, path, VectorFormat.Native);
        var bytes = File.ReadAllBytes(path);
        int at = bytes.AsSpan().IndexOf("abcd"u8);
        "ab"u8.CopyTo(bytes.AsSpan(at + 2));
        File.WriteAllBytes(path, bytes);
        using var damaged = VectorsFile.Load(path);
        var e = Assert.Throws<FileFormatException>(() => damaged.IndexOf("ab"));
        Assert.Contains("duplicate key 'ab'", e.Message);
        Assert.Equal(72, e.ByteOffset);
    }

    [Fact]
    public void Load_NpyTruncated_Throws()
    {
        var bytes = File.ReadAllBytes(VectorsGolden.Path("small_f4_v1.npy"));
        string path = WriteBytes("cut.npy", bytes[..^8]);
        File.Copy(VectorsGolden.Path("small_f4_v1.keys.txt"), Path.Combine(dir, "cut.keys.txt"));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Contains("expected 15936 bytes of data for shape (249, 16)", e.Message);
    }

    [Fact]
    public void Load_NpyKeysCountWrong_ThrowsOnKeysFile()
    {
        string path = Path.Combine(dir, "v.npy");
        File.Copy(VectorsGolden.Path("small_f4_v1.npy"), path);
        string keys = Write("v.keys.txt", string.Join("\n", Enumerable.Range(0, 200).Select(i => "k" + i)) + "\n");
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Equal(keys, e.FilePath);
        Assert.Equal(201, e.Line);
    }

    [Fact]
    public void Load_NpyWithoutKeys_SaysWhatIsMissing()
    {
        string path = Path.Combine(dir, "v.npy");
        File.Copy(VectorsGolden.Path("small_f4_v1.npy"), path);
        var e = Assert.Throws<FileNotFoundException>(() => VectorsFile.Load(path));
        Assert.Contains("v.keys.txt", e.Message);
    }

    [Fact]
    public void Load_NpyFortranOrder_Throws()
    {
        var bytes = File.ReadAllBytes(VectorsGolden.Path("small_f4_v1.npy"));
        string header = Encoding.Latin1.GetString(bytes, 10, 100).Replace("'fortran_order': False", "'fortran_order': True ");
        Encoding.Latin1.GetBytes(header).CopyTo(bytes, 10);
        string path = WriteBytes("f.npy", bytes);
        File.Copy(VectorsGolden.Path("small_f4_v1.keys.txt"), Path.Combine(dir, "f.keys.txt"));
        Assert.Contains("Fortran order", Assert.Throws<FileFormatException>(() => VectorsFile.Load(path)).Message);
    }

    [Fact]
    public void Load_WinkJson_RowsInWordOrder()
    {
        string path = Write("w.json", """{"precision":8,"size":2,"dimensions":2,"words":["b","a"],"vectors":{"a":[1,2,2.23,1],"b":[3,4,5,0]},"unkVector":[0,0]}""");
        using var kv = VectorsFile.Load(path);
        Assert.Equal(["b", "a"], kv.Keys);
        Assert.Equal([3f, 4f, 1f, 2f], kv.Vectors.ToArray());
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(Write("t.json", """{"dimensions":2,"words":["b","a"],"vectors":{"a":[1,2,2.23,1],"b":[3""")));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Load_EmptyFile_Throws()
    {
        Assert.Throws<FileFormatException>(() => VectorsFile.Load(Write("empty.txt", "")));
    }

    [Fact]
    public void Load_MissingFile_FileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => VectorsFile.Load(Path.Combine(dir, "nope.txt")));
    }
}
