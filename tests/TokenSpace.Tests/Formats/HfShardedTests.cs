using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Tests.Cli;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Formats;

/// <summary>
/// Large modern vocabularies: a sharded Hugging Face checkpoint whose BF16/F16 embedding stays mapped as stored, keyed
/// by its tokenizer.json; every query must answer exactly as float32 vectors holding the widened values do.
/// </summary>
public sealed class HfShardedTests : IDisposable
{
    const string Embedding = "model.embed_tokens.weight";
    const string Shard1 = "model-00001-of-00002.safetensors", Shard2 = "model-00002-of-00002.safetensors";

    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-hfsharded-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>
    /// Writes a two-shard checkpoint: <paramref name="rows"/> × <paramref name="dims"/> embedding of <paramref name="dtype"/> in
    /// shard 1, a norm vector and a small matrix in shard 2, byte-level pieces Ġw0, w1, … and four added tokens; returns the
    /// stored values widened to float32.
    /// </summary>
    float[] WriteCheckpoint(string dtype = "BF16", int rows = 300, int dims = 24, int added = 4, Action<float[]>? change = null)
    {
        var values = new float[rows * dims];
        new Rng(5).FillUniform(values, -1, 1);
        change?.Invoke(values);
        var bits = values.Select(v => dtype == "BF16" ? HfShards.BFloat16(v) : BitConverter.HalfToUInt16Bits((Half)v)).ToArray();
        HfShards.WriteShard(Path.Combine(dir, Shard1), new HfShards.Tensor(Embedding, dtype, [rows, dims], HfShards.Bytes(bits)));
        HfShards.WriteShard(Path.Combine(dir, Shard2),
            new HfShards.Tensor("model.norm.weight", dtype, [dims], new byte[2 * dims]),
            new HfShards.Tensor("model.layers.0.mlp.down_proj.weight", dtype, [2, dims], new byte[4 * dims]));
        HfShards.WriteIndex(dir, [(Embedding, Shard1), ("model.norm.weight", Shard2), ("model.layers.0.mlp.down_proj.weight", Shard2)]);
        HfShards.WriteTokenizer(dir, Pieces(rows - added), Enumerable.Range(0, added).Select(i => $"<|special_{i}|>").ToList(), new { type = "ByteLevel" });
        var wide = new float[bits.Length];
        KeyedVectors.Widen(bits, dtype == "BF16" ? VectorStorage.BFloat16 : VectorStorage.Float16, wide);
        return wide;
    }

    static List<string> Pieces(int count) => Enumerable.Range(0, count).Select(i => (i % 2 == 0 ? "Ġ" : "") + "w" + i).ToList();

    static string Key(int i) => (i % 2 == 0 ? " " : "") + "w" + i;

    [Theory]
    [InlineData("BF16")]
    [InlineData("F16")]
    public void Load_ShardedCheckpoint_MappedAsStoredWithReadableKeys(string dtype)
    {
        WriteCheckpoint(dtype);
        using var kv = VectorsFile.Load(dir);
        Assert.Equal(dtype == "BF16" ? VectorStorage.BFloat16 : VectorStorage.Float16, kv.Storage);
        Assert.True(kv.IsMemoryMapped);
        Assert.Equal((300, 24), (kv.Count, kv.Dimensions));
        Assert.Equal([" w0", "w1", " w2"], kv.Keys.Take(3));
        Assert.Equal("<|special_3|>", kv.Keys[^1]);
    }

    [Theory]
    [InlineData("BF16", 24)]
    [InlineData("F16", 24)]
    [InlineData("BF16", 1031)] // past the size where float32 vectors scan their int8 copy: that exact path is the oracle then
    public void Queries_MappedSixteenBit_EqualFloat32OfTheWidenedValues(string dtype, int dims)
    {
        var wide = WriteCheckpoint(dtype, rows: 300, dims: dims);
        using var kv = VectorsFile.Load(Path.Combine(dir, SafetensorsIndex.FileName));
        using var oracle = new KeyedVectors(kv.Keys, wide, dims);
        Assert.Equal(oracle.Norms.ToArray(), kv.Norms.ToArray());
        foreach (string key in new[] { " w0", "w7", "<|special_1|>" })
        {
            Assert.Equal(oracle.MostSimilar(key, topN: 10), kv.MostSimilar(key, topN: 10));
            Assert.Equal(oracle.GetVector(key, normalized: true).ToArray(), kv.GetVector(key, normalized: true).ToArray());
            Assert.Equal(oracle.Similarity(key, "w9"), kv.Similarity(key, "w9"));
        }
        Assert.Equal(oracle.MostSimilar([" w2", "w3"], ["w5"], topN: 5, restrictVocab: 100), kv.MostSimilar([" w2", "w3"], ["w5"], topN: 5, restrictVocab: 100));
        Assert.Equal(oracle.MostSimilarCosMul([" w2", "w3"], ["w5"], topN: 5), kv.MostSimilarCosMul([" w2", "w3"], ["w5"], topN: 5));
        Assert.Equal(oracle.CloserThan(" w0", "w1"), kv.CloserThan(" w0", "w1"));
        Assert.Equal(oracle.Distances("w1"), kv.Distances("w1"));
    }

    [Fact]
    public void Queries_HugeTinyAndRepeatedRowsAndManyQueries_EqualFloat32OfTheWidenedValues()
    {
        const int Dims = 40;
        var wide = WriteCheckpoint(rows: 300, dims: Dims, change: v =>
        {
            for (int j = 0; j < Dims; j++)
            {
                v[10 * Dims + j] *= 1e35f;       // norms beyond the first pass's safe range: scored exactly
                v[11 * Dims + j] *= 1e-35f;
                v[12 * Dims + j] = v[13 * Dims + j] = v[14 * Dims + j]; // ties: the lower row first
            }
        });
        using var kv = VectorsFile.Load(dir);
        using var oracle = new KeyedVectors(kv.Keys, wide, Dims);
        var queries = Enumerable.Range(0, 70).Select(i => ((IReadOnlyList<string>)[kv.Keys[i * 4]], (IReadOnlyList<string>)[])).ToList();
        var expected = oracle.MostSimilarBatch(queries, topN: 12);
        var found = kv.MostSimilarBatch(queries, topN: 12);
        for (int q = 0; q < queries.Count; q++) Assert.Equal(expected[q], found[q]);
        Assert.Equal(oracle.MostSimilar("w13", topN: 300), kv.MostSimilar("w13", topN: 300));
    }

    [Fact]
    public void Load_TensorByName_ShortNameAndDefaultSearch()
    {
        WriteCheckpoint();
        using var byShortName = VectorsFile.Load(dir, options: new() { Tensor = "embed_tokens" });
        Assert.Equal(300, byShortName.Count);
        using var other = VectorsFile.Load(dir, options: new() { Tensor = "model.layers.0.mlp.down_proj.weight" });
        Assert.Equal(["0", "1"], other.Keys);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(dir, options: new() { Tensor = "lm_head" }));
        Assert.Contains("model.norm.weight", e.Message);
    }

    [Fact]
    public void Load_SingleFileGpt2Names_DefaultFindsTransformerWte()
    {
        var bits = Enumerable.Range(0, 6 * 4).Select(i => HfShards.BFloat16(i + 1)).ToArray();
        HfShards.WriteShard(Path.Combine(dir, "model.safetensors"), new HfShards.Tensor("transformer.wte.weight", "BF16", [6, 4], HfShards.Bytes(bits)));
        using var kv = VectorsFile.Load(dir);
        Assert.Equal(VectorStorage.BFloat16, kv.Storage);
        Assert.Equal([21f, 22f, 23f, 24f], kv.Row(5).ToArray());
    }

    [Fact]
    public void Keys_MetaspaceAndPartialUtf8Pieces_ShownReadably()
    {
        WriteCheckpoint(rows: 6, dims: 4, added: 0);
        HfShards.WriteTokenizer(dir, ["▁the", "▁king", "a", "b", "c", "d"], [], new { type = "Sequence", decoders = new object[] { new { type = "Replace", pattern = new { String = "▁" }, content = " " }, new { type = "Fuse" } } });
        using (var kv = VectorsFile.Load(dir)) Assert.Equal([" the", " king", "a"], kv.Keys.Take(3));
        // "æ" stands for the byte 0xE6, the first byte of a three-byte character; "åĴĮ" is 0xE5 0x92 0x8C, 和.
        HfShards.WriteTokenizer(dir, ["æ", "åĴĮ", "Ċ", "a", "b", "c"], [], new { type = "ByteLevel" });
        using (var kv = VectorsFile.Load(dir)) Assert.Equal(["<0xE6>", "和", "\n"], kv.Keys.Take(3));
    }

    public static TheoryData<string, string> HostileCases => new()
    {
        { "missing shard", "does not exist" },
        { "tensor not in its shard", "does not hold it" },
        { "tensor in two shards", "split across shards" },
        { "dtypes disagree", "disagree" },
        { "config width", "hidden_size" },
        { "NaN", "not finite" },
        { "token id beyond rows", "outside the embedding" },
        { "index not JSON", "not a valid index" },
        { "index without weight_map", "weight_map" },
    };

    [Theory]
    [MemberData(nameof(HostileCases))]
    public void Load_HostileCheckpoint_LocatedFileFormatException(string what, string expected)
    {
        WriteCheckpoint(rows: 8, dims: 4, added: 0);
        string index = Path.Combine(dir, SafetensorsIndex.FileName);
        var good = HfShards.Bytes(Enumerable.Range(0, 32).Select(i => HfShards.BFloat16(i)));
        switch (what)
        {
            case "missing shard": File.Delete(Path.Combine(dir, Shard2)); break;
            case "tensor not in its shard": HfShards.WriteIndex(dir, [(Embedding, Shard2), ("model.norm.weight", Shard2), ("model.layers.0.mlp.down_proj.weight", Shard2)]); break;
            case "tensor in two shards":
                HfShards.WriteShard(Path.Combine(dir, Shard2), new HfShards.Tensor("model.norm.weight", "BF16", [4], new byte[8]),
                    new HfShards.Tensor("model.layers.0.mlp.down_proj.weight", "BF16", [2, 4], new byte[16]), new HfShards.Tensor(Embedding, "BF16", [8, 4], good));
                break;
            case "dtypes disagree":
                HfShards.WriteShard(Path.Combine(dir, Shard2), new HfShards.Tensor("model.norm.weight", "BF16", [4], new byte[8]),
                    new HfShards.Tensor("model.layers.0.mlp.down_proj.weight", "F16", [2, 4], new byte[16]));
                break;
            case "config width": File.WriteAllText(Path.Combine(dir, "config.json"), """{"hidden_size": 4096, "vocab_size": 8}"""); break;
            case "NaN":
                var bad = good.ToArray();
                BitConverter.GetBytes(HfShards.BFloat16(float.NaN)).CopyTo(bad, 2 * 13);
                HfShards.WriteShard(Path.Combine(dir, Shard1), new HfShards.Tensor(Embedding, "BF16", [8, 4], bad));
                break;
            case "token id beyond rows": HfShards.WriteTokenizer(dir, Pieces(9), [], new { type = "ByteLevel" }); break;
            case "index not JSON": File.WriteAllText(index, """{"weight_map": {"a": """); break;
            default: File.WriteAllText(index, """{"metadata": {}}"""); break;
        }
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(dir));
        Assert.Contains(expected, e.Message);
        Assert.False(string.IsNullOrEmpty(e.FilePath));
        if (what is "missing shard" or "tensor not in its shard" or "tensor in two shards" or "dtypes disagree" or "NaN") Assert.NotNull(e.ByteOffset);
    }

    [Fact]
    public void Neighbors_Cli_ShardedCheckpoint()
    {
        WriteCheckpoint();
        var (code, output, error) = VectorsCliTests.Run("neighbors", "--vectors", dir, " w4", "--top", "3", "--json");
        Assert.True(code == 0, error);
        var results = JsonDocument.Parse(output).RootElement.GetProperty("results")[0];
        Assert.Equal(3, results.GetProperty("neighbors").GetArrayLength());
    }
}
