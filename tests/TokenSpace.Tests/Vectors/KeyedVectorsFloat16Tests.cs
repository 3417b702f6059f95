using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

public class KeyedVectorsFloat16Tests
{
    /// <summary>A float16 set and a float32 set holding the same (float16-rounded) values.</summary>
    static (KeyedVectors Half, KeyedVectors Wide) Pair(KeyedVectors source)
    {
        var half = source.ToFloat16();
        var wide = new KeyedVectors(half.Keys, half.Vectors.ToArray(), half.Dimensions);
        return (half, wide);
    }

    static void AssertSame(IReadOnlyList<Neighbor> expected, IReadOnlyList<Neighbor> actual)
    {
        Assert.Equal(expected.Select(n => n.Key), actual.Select(n => n.Key));
        Assert.Equal(expected.Select(n => n.Similarity), actual.Select(n => n.Similarity));
    }

    [Fact]
    public void ToFloat16_Storage_HalfTheBytesAndRoundedValues()
    {
        using var source = VectorsGolden.Random(300, 16, seed: 5);
        using var half = source.ToFloat16();
        Assert.Equal(VectorStorage.Float32, source.Storage);
        Assert.Equal(VectorStorage.Float16, half.Storage);
        Assert.Equal(300 * 16, half.HalfVectors.Length);
        Assert.Same(half, half.ToFloat16());
        var values = half.Vectors;
        for (int i = 0; i < values.Length; i++) Assert.Equal((float)(Half)source.Vectors[i], values[i]);
        Assert.Equal(values.Slice(17 * 16, 16).ToArray(), half.Row(17).ToArray());
    }

    [Fact]
    public void Queries_Float16Storage_SameAsFloat32OfRoundedValues()
    {
        // 20,000 × 16 is above the int8-scan threshold, so the compact index and its re-ranking run too.
        using var source = VectorsGolden.Random(20_000, 16, seed: 11);
        var (half, wide) = Pair(source);
        using (half)
        using (wide)
        {
            AssertSame(wide.MostSimilar("w42", 10), half.MostSimilar("w42", 10));
            AssertSame(wide.MostSimilar(["w1", "w2"], ["w3", "w5"], 7, restrictVocab: 5000), half.MostSimilar(["w1", "w2"], ["w3", "w5"], 7, restrictVocab: 5000));
            AssertSame(wide.MostSimilarCosMul(["w1", "w2"], ["w5"], 5), half.MostSimilarCosMul(["w1", "w2"], ["w5"], 5));
            AssertSame(wide.SimilarByVector(wide.Row(9), 4), half.SimilarByVector(half.Row(9), 4));
            var batch = Enumerable.Range(0, 70).Select(q => ((IReadOnlyList<string>)["w" + q * 13], (IReadOnlyList<string>)[])).ToList();
            var expected = wide.MostSimilarBatch(batch, 5);
            var actual = half.MostSimilarBatch(batch, 5);
            for (int q = 0; q < batch.Count; q++) AssertSame(expected[q], actual[q]);
            Assert.Equal(wide.Similarity("w7", "w8"), half.Similarity("w7", "w8"));
            Assert.Equal(wide.Distance("w7", "w8"), half.Distance("w7", "w8"));
            Assert.Equal(wide.Distance("w7", "w8", DistanceMetric.Euclidean), half.Distance("w7", "w8", DistanceMetric.Euclidean));
            Assert.Equal(wide.DoesntMatch(["w1", "w2", "w3", "w4", "w99"]), half.DoesntMatch(["w1", "w2", "w3", "w4", "w99"]));
            Assert.Equal(wide.Rank("w10", "w11"), half.Rank("w10", "w11"));
            Assert.Equal(wide.Norms.ToArray(), half.Norms.ToArray());
        }
    }

    [Fact]
    public void ToFloat16_ValueBeyondRange_Throws()
    {
        using var kv = new KeyedVectors(["a", "b"], [1f, 2f, 70000f, 0f], 2);
        var e = Assert.Throws<ArgumentException>(() => kv.ToFloat16());
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void Row_DisposedFloat16_Throws()
    {
        var kv = new KeyedVectors(["a", "b"], [3f, 4f, 0f, 2f], 2).ToFloat16();
        kv.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kv.Row(0).ToArray());
        Assert.Throws<ObjectDisposedException>(() => kv.Similarity("a", "b"));
    }

    [Fact]
    public void UnitNormalizeAll_Float16_BecomesFloat32UnitRows()
    {
        using var kv = new KeyedVectors(["a", "b"], [3f, 4f, 0f, 2f], 2).ToFloat16();
        kv.UnitNormalizeAll();
        Assert.Equal(VectorStorage.Float32, kv.Storage);
        Assert.Equal([0.6f, 0.8f, 0f, 1f], kv.Vectors.ToArray());
    }

    [Fact]
    public void Load_NpyFloat16AsFloat16_KeptWithoutWidening()
    {
        string path = VectorsGolden.Path("small_f2_v2.npy");
        using var wide = VectorsFile.Load(path);
        using var half = VectorsFile.Load(path, options: new() { Storage = VectorStorage.Float16 });
        Assert.Equal(VectorStorage.Float16, half.Storage);
        Assert.Equal(wide.Vectors.ToArray(), half.Vectors.ToArray());
        AssertSame(wide.MostSimilar(["paris", "germany"], ["france"], 5), half.MostSimilar(["paris", "germany"], ["france"], 5));
    }

    [Fact]
    public void Save_Float16Storage_WritesWidenedFloat32()
    {
        using var half = VectorsFile.Load(VectorsGolden.Path("small.txt"), options: new() { Storage = VectorStorage.Float16 });
        var expected = half.Vectors.ToArray();
        string dir = Directory.CreateTempSubdirectory("f16").FullName;
        try
        {
            foreach (var (name, format) in new[] { ("v.bin", VectorFormat.Word2VecBinary), ("v.txt", VectorFormat.Word2VecText), ("v.tsvec", VectorFormat.Native) })
            {
                string path = Path.Combine(dir, name);
                VectorsFile.Save(half, path, format);
                using var back = VectorsFile.Load(path);
                Assert.Equal(VectorStorage.Float32, back.Storage);
                Assert.Equal(half.Keys, back.Keys);
                Assert.Equal(expected, back.Vectors.ToArray());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
