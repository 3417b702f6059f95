using System.Buffers.Binary;
using System.Text;
using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Formats;

/// <summary>Headers that lie and values that break numerics: each refused with a located error before anything large is allocated.</summary>
public sealed class HostileFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-hostile-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string WriteBytes(string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    string Write(string name, string text) => WriteBytes(name, Encoding.UTF8.GetBytes(text));

    /// <summary>Loads <paramref name="path"/> expecting a refusal; asserts the loading thread allocated under 1 MB on the way.</summary>
    static FileFormatException Refused(string path, VectorFormat? format = null)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, format).Dispose());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated before refusing");
        Assert.Equal(path, e.FilePath);
        return e;
    }

    string Native(KeyedVectors kv, Action<byte[]> damage)
    {
        string path = Path.Combine(dir, "v.tsvec");
        VectorsFile.Save(kv, path, VectorFormat.Native);
        var bytes = File.ReadAllBytes(path);
        damage(bytes);
        return WriteBytes("damaged.tsvec", bytes);
    }

    [Theory]
    [InlineData(16, long.MaxValue)]        // count near 2^63: count × dims wraps
    [InlineData(16, (1L << 62) + 1)]
    [InlineData(24, 1L << 61)]             // dims
    [InlineData(40, long.MaxValue - 8)]    // keys length beyond the mapping
    [InlineData(48, long.MinValue)]        // matrix offset
    [InlineData(64, -(1L << 62))]          // the first key's end, before the key section
    [InlineData(72, 1L << 40)]             // the second key's end, beyond the mapping
    public void Load_NativeHeaderThatLies_RefusedInsideTheMapping(int offset, long value)
    {
        using var kv = new KeyedVectors(["ab", "cd"], [1f, 2f, 3f, 4f], 2);
        string path = Native(kv, b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(offset), value));
        var e = Refused(path);
        Assert.NotNull(e.ByteOffset);
    }

    [Fact]
    public void Load_NativeKeyEndWrongAtAChunkBoundary_Refused()
    {
        // Keys are decoded in parallel chunks of 8192; the second chunk starts from the first's last end.
        var keys = Enumerable.Range(0, 8200).Select(i => "k" + i).ToArray();
        using var kv = new KeyedVectors(keys, new float[keys.Length], 1);
        foreach (long value in new[] { long.MinValue, -(1L << 40), 1L << 40 })
        {
            string path = Native(kv, b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(64 + 8 * 8191), value));
            Assert.Contains("outside the", Refused(path).Message);
        }
    }

    [Fact]
    public void Load_NativeKeyEndPastTheKeysWithReplace_Refused()
    {
        using var kv = new KeyedVectors(["ab", "cd"], [1f, 2f, 3f, 4f], 2);
        string path = Native(kv, b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(72), 4096));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, options: new() { Utf8Errors = Utf8Errors.Replace }));
        Assert.Contains("outside the 4-byte key section", e.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.NegativeInfinity)]
    public void Load_NativeNonFinite_RefusedAtTheValue(float bad)
    {
        using var kv = new KeyedVectors(["ab", "cd"], [1f, 2f, 3f, 4f], 2);
        string path = Native(kv, b => BitConverter.GetBytes(bad).CopyTo(b, b.Length - 4));
        var e = Refused(path);
        Assert.Contains("value 2 of row 2 ('cd') is not finite", e.Message);
        Assert.Equal(new FileInfo(path).Length - 4, e.ByteOffset);
    }

    [Theory]
    [InlineData("(4, 4611686018427387929)")]
    [InlineData("(4, 4611686018427387904)")]
    [InlineData("(3, 4611686018427387904)")]
    [InlineData("(9223372036854775807, 2)")]
    [InlineData("(-1, 4)")]
    public void Load_NpyShapeThatOverflows_Refused(string shape)
    {
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".PadRight(117) + "\n";
        byte[] bytes = [0x93, .. "NUMPY"u8, 1, 0, .. BitConverter.GetBytes((ushort)dict.Length), .. Encoding.ASCII.GetBytes(dict), .. new byte[400]];
        string path = WriteBytes("m.npy", bytes);
        File.WriteAllText(Path.Combine(dir, "m.keys.txt"), "a\nb\nc\nd\n");
        var e = Refused(path);
        Assert.Contains("is not a usable matrix", e.Message);
    }

    [Theory]
    [InlineData("20000000 100\n")]
    [InlineData("1000000000000000000 65535\n")]
    [InlineData("2 536870912\n")]
    public void Load_Word2VecBinaryCountThatLies_RefusedWithoutAllocating(string header)
    {
        var bytes = Encoding.ASCII.GetBytes(header).Concat("a "u8.ToArray()).Concat(new byte[400]).ToArray();
        var e = Refused(WriteBytes("v.bin", bytes), VectorFormat.Word2VecBinary);
        Assert.NotNull(e.ByteOffset);
    }

    [Fact]
    public void Load_WinkJsonDimensionsThatLie_RefusedWithoutAllocating()
    {
        var e = Refused(Write("w.json", "{\"dimensions\": 2000000000, \"words\": [\"a\", \"b\"], \"vectors\": {\"a\": [1]}}"));
        Assert.Contains("is \"dimensions\" wrong?", e.Message);
    }

    [Theory]
    [InlineData("{\"dimensions\": 8, \"dimensions\": 1, \"words\": [\"a\"], \"vectors\": {\"a\": [1, 0, 0]}}", "duplicate member \"dimensions\"")]
    [InlineData("{\"dimensions\": 1, \"words\": [\"a\"], \"vectors\": {\"a\": [1, 0, 0]}} {\"x\": 1}", "are two documents concatenated?")]
    [InlineData("{\"dimensions\": 1, \"words\": [\"a\"], \"vectors\": {\"a\": [1, 0, 0], \"a\": [2, 0, 0]}}", "duplicate vector for 'a'")]
    [InlineData("{\"dimensions\": 1e10, \"words\": [\"a\"], \"vectors\": {\"a\": [1, 0, 0]}}", "positive integer")]
    [InlineData("{\"dimensions\": 1, \"words\": [\"a\"], \"vectors\": {\"a\": [1e39, 0, 0]}}", "value 1 of 'a' is not finite")]
    public void Load_WinkJsonMalformed_RefusedWithOffset(string json, string message)
    {
        var e = Refused(Write("w.json", json), VectorFormat.WinkJson);
        Assert.Contains(message, e.Message);
        Assert.NotNull(e.ByteOffset);
    }

    /// <summary>A safetensors file whose header is <paramref name="json"/>, followed by <paramref name="data"/> bytes.</summary>
    string Safetensors(string json, int data)
    {
        var header = Encoding.UTF8.GetBytes(json);
        return WriteBytes("t.safetensors", [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[data]]);
    }

    [Theory]
    // 2^61 + 1 F64 values: 8 × that wraps to 8 bytes.
    [InlineData("{\"wte\": {\"dtype\": \"F64\", \"shape\": [2305843009213693953, 1], \"data_offsets\": [0, 8]}}", "more bytes than any file holds")]
    [InlineData("{\"wte\": {\"dtype\": \"F32\", \"shape\": [1099511627776, 1099511627776], \"data_offsets\": [0, 16]}}", "more bytes than any file holds")]
    [InlineData("{\"wte\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 16]}, \"wpe\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [8, 24]}}", "overlap")]
    [InlineData("{\"wte\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 16]}, \"wte\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [16, 32]}}", "'wte' is listed twice")]
    [InlineData("{\"wte\": {\"dtype\": \"F32\", \"shape\": [2, -2], \"data_offsets\": [0, 16]}}", "a negative dimension")]
    public void Load_SafetensorsHeaderThatLies_RefusedWithOffset(string json, string message)
    {
        var e = Refused(Safetensors(json, 32));
        Assert.Contains(message, e.Message);
        // A repeated name is located at its second occurrence; a wrong size at the header.
        Assert.Equal(message.Contains("twice") ? 8 + json.LastIndexOf("\"wte\"", StringComparison.Ordinal) : 8, e.ByteOffset);
    }

    [Fact]
    public void Load_SafetensorsShapeOfManyDimensions_RefusedWithoutIndexingTheHeader()
    {
        string json = "{\"wte\": {\"dtype\": \"F32\", \"shape\": [" + string.Join(",", Enumerable.Repeat("1", 200_000)) + "], \"data_offsets\": [0, 4]}}";
        var e = Refused(Safetensors(json, 4));
        Assert.Contains("at most 64", e.Message);
    }

    [Fact]
    public void Load_SafetensorsHeaderOver100MB_ReadAsSafetensorsAndRefused()
    {
        string path = WriteBytes("big.safetensors", [.. BitConverter.GetBytes(200UL << 20), .. "{\"wte\": 1}"u8]);
        Assert.Equal(VectorFormat.Safetensors, VectorsFile.Detect(path));
        Assert.Contains("over the 100 MB limit", Refused(path).Message);
    }

    [Fact]
    public void Load_Word2VecWithBom_HeaderRead()
    {
        string path = WriteBytes("bom.txt", [.. Encoding.UTF8.Preamble, .. "2 2\na 1 2\nb 3 4\n"u8]);
        using var kv = VectorsFile.Load(path);
        Assert.Equal(["a", "b"], kv.Keys);
        Assert.Equal([1f, 2f, 3f, 4f], kv.Vectors.ToArray());
    }

    [Theory]
    [InlineData("\u0000")]
    [InlineData("\u007F")]
    public void Detect_ControlCharacterInATextKey_StillText(string control)
    {
        string path = Write("c.txt", $"2 2\na{control}b 1 2\nc 3 4\n");
        Assert.Equal(VectorFormat.Word2VecText, VectorsFile.Detect(path));
        using var kv = VectorsFile.Load(path);
        Assert.Equal($"a{control}b", kv.Keys[0]);
    }

    [Fact]
    public void Detect_HeaderWithHugeDimensions_LocatedError()
    {
        var e = Refused(Write("h.txt", "2 2147483647\nab\n"));
        Assert.Contains("h.txt", e.Message);
    }

    [Theory]
    [InlineData(1e20f)]
    [InlineData(1e-30f)]
    [InlineData(3e38f)]
    public void Similarity_ExtremeMagnitudes_ExactCosine(float big)
    {
        using var kv = new KeyedVectors(["big", "one", "other"], [big, big, 1f, 1f, big, -big], 2);
        Assert.Equal(1f, kv.Similarity("big", "one"), 6);
        Assert.Equal(0f, kv.Similarity("big", "other"), 6);
        Assert.Equal("one", kv.MostSimilar("big", topN: 1)[0].Key);
    }
}
