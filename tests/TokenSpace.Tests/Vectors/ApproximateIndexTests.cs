using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

[Collection(ProcessWideState.Name)]
public sealed class ApproximateIndexTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-ann-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string IndexPath(string name = "v.ann") => Path.Combine(dir, name);

    static double Recall(KeyedVectors kv, int queries, int k, int? restrictVocab = null)
    {
        int hits = 0;
        for (int q = 0; q < queries; q++)
        {
            string key = kv.Keys[q * 7 % kv.Count];
            var exact = kv.MostSimilar(key, k, restrictVocab).Select(n => n.Key).ToHashSet();
            hits += kv.MostSimilar(key, k, restrictVocab, approximate: true).Count(n => exact.Contains(n.Key));
        }
        return (double)hits / (queries * k);
    }

    [Theory]
    [InlineData(IndexDtype.Float32, 0.97)]
    [InlineData(IndexDtype.Float16, 0.97)]
    [InlineData(IndexDtype.Int8, 0.85)]
    public void MostSimilar_Approximate_FindsMostExactNeighboursWithExactScores(IndexDtype dtype, double minRecall)
    {
        using var kv = VectorsGolden.Random(3000, 24, seed: 5);
        kv.BuildIndex(IndexPath(), new ApproximateIndexOptions { Dtype = dtype });
        kv.Index!.Expansion = 128;
        Assert.InRange(Recall(kv, 200, 10), minRecall, 1.0);
        // A found key's score is its exact cosine, and the query key is left out as in the exact search.
        var found = kv.MostSimilar("w42", 10, approximate: true);
        Assert.DoesNotContain(found, n => n.Key == "w42");
        foreach (var n in found) Assert.Equal(kv.Similarity("w42", n.Key), n.Similarity);
        Assert.True(found.Zip(found.Skip(1)).All(p => p.First.Similarity >= p.Second.Similarity));
    }

    [Fact]
    public void MostSimilar_ApproximateRestricted_SearchesOnlyTheFirstRows()
    {
        using var kv = VectorsGolden.Random(3000, 16, seed: 6);
        kv.BuildIndex(IndexPath());
        var found = kv.MostSimilar("w2500", 10, restrictVocab: 500, approximate: true);
        Assert.Equal(10, found.Count);
        Assert.All(found, n => Assert.InRange(int.Parse(n.Key[1..]), 0, 499));
        Assert.InRange(Recall(kv, 100, 10, restrictVocab: 500), 0.97, 1.0);
    }

    [Fact]
    public void MostSimilarBatch_Approximate_SameAnswerOnOneAndTwoThreads()
    {
        using var kv = VectorsGolden.Random(2000, 16, seed: 7);
        kv.BuildIndex(IndexPath());
        var queries = Enumerable.Range(0, 40).Select(i => ((IReadOnlyList<string>)[$"w{i * 13}"], (IReadOnlyList<string>)[])).ToList();
        int saved = Threads.Count;
        try
        {
            Threads.Count = 1;
            var one = kv.MostSimilarBatch(queries, 10, approximate: true);
            Threads.Count = 2;
            var two = kv.MostSimilarBatch(queries, 10, approximate: true);
            for (int q = 0; q < queries.Count; q++) Assert.Equal(one[q], two[q]);
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void Build_TwoThreads_EveryRowReachable()
    {
        // A set smaller than a layer-0 link list: every row links to every row found, so a search with k = all finds all.
        // A parallel build that let a node's own links overwrite those another insert had just added lost rows here.
        int saved = Threads.Count;
        try
        {
            Threads.Count = 2;
            for (int round = 0; round < 20; round++)
            {
                using var kv = VectorsGolden.Random(27, 16, seed: 100 + round);
                kv.BuildIndex(IndexPath($"r{round}.ann"));
                for (int row = 0; row < kv.Count; row++)
                {
                    Assert.Equal(kv.Count - 1, kv.MostSimilar(kv.Keys[row], kv.Count - 1, approximate: true).Count);
                }
            }
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void Build_OneThread_ByteIdenticalFiles()
    {
        using var kv = VectorsGolden.Random(2000, 16, seed: 8);
        int saved = Threads.Count;
        try
        {
            Threads.Count = 1;
            ApproximateIndex.Build(kv, IndexPath("a.ann")).Dispose();
            ApproximateIndex.Build(kv, IndexPath("b.ann")).Dispose();
        }
        finally
        {
            Threads.Count = saved;
        }
        Assert.Equal(File.ReadAllBytes(IndexPath("a.ann")), File.ReadAllBytes(IndexPath("b.ann")));
    }

    [Fact]
    public void Open_BuiltFile_ReportsItsSettings()
    {
        using var kv = VectorsGolden.Random(500, 8, seed: 9);
        ApproximateIndex.Build(kv, IndexPath(), new ApproximateIndexOptions { Connectivity = 8, ExpansionAdd = 40, Dtype = IndexDtype.Float16 }).Dispose();
        using var index = kv.OpenIndex(IndexPath());
        Assert.Same(index, kv.Index);
        Assert.Equal(new ApproximateIndexOptions { Connectivity = 8, ExpansionAdd = 40, Dtype = IndexDtype.Float16 }, index.Options);
        Assert.Equal(500, index.Count);
        Assert.Equal(8, index.Dimensions);
        Assert.Equal(IndexPath(), index.FilePath);
    }

    [Fact]
    public void Open_OtherVectors_ThrowsNamingTheMismatch()
    {
        using var kv = VectorsGolden.Random(500, 8, seed: 10);
        ApproximateIndex.Build(kv, IndexPath()).Dispose();
        using var shorter = VectorsGolden.Random(499, 8, seed: 10);
        var e = Assert.Throws<FileFormatException>(() => shorter.OpenIndex(IndexPath()));
        Assert.Contains("built for 500 × 8 vectors, these are 499 × 8", e.Message);

        var m = kv.Vectors.ToArray();
        m[123] += 1e-3f;
        using var changed = new KeyedVectors(kv.Keys, m, 8);
        e = Assert.Throws<FileFormatException>(() => changed.OpenIndex(IndexPath()));
        Assert.Contains("other vectors of the same shape", e.Message);

        using var renamed = new KeyedVectors(kv.Keys.Select(k => k == "w7" ? "w7x" : k), kv.Vectors.ToArray(), 8);
        Assert.Throws<FileFormatException>(() => renamed.OpenIndex(IndexPath()));
        Assert.Null(renamed.Index);
    }

    [Fact]
    public void Open_DamagedFile_ThrowsWithOffset()
    {
        using var kv = VectorsGolden.Random(300, 8, seed: 11);
        ApproximateIndex.Build(kv, IndexPath()).Dispose();
        var bytes = File.ReadAllBytes(IndexPath());

        File.WriteAllBytes(IndexPath("truncated.ann"), bytes[..^10]);
        var e = Assert.Throws<FileFormatException>(() => kv.OpenIndex(IndexPath("truncated.ann")));
        Assert.Contains("is it truncated?", e.Message);
        Assert.Equal(56, e.ByteOffset);

        var versioned = (byte[])bytes.Clone();
        versioned[8] = 9;
        e = Assert.Throws<FileFormatException>(() => kv.OpenIndex(WriteAll("v9.ann", versioned)));
        Assert.Contains("version 9", e.Message);

        e = Assert.Throws<FileFormatException>(() => kv.OpenIndex(WriteAll("text.ann", "not an index"u8.ToArray())));
        Assert.Contains("not a TokenSpace index file", e.Message);

        // A graph byte changed after the header: the checksum refuses it, and the error names the file.
        var garbled = (byte[])bytes.Clone();
        garbled[200] ^= 1;
        e = Assert.Throws<FileFormatException>(() => kv.OpenIndex(WriteAll("garbled.ann", garbled)));
        Assert.Contains("garbled.ann", e.Message);
        Assert.Contains("checksum", e.Message);
        Assert.Equal(64, e.ByteOffset);
    }

    [Fact]
    public void MostSimilar_ApproximateWithoutIndex_ThrowsSayingHowToBuildOne()
    {
        using var kv = VectorsGolden.Random(100, 8, seed: 12);
        var e = Assert.Throws<InvalidOperationException>(() => kv.MostSimilar("w1", approximate: true));
        Assert.Contains("KeyedVectors.BuildIndex", e.Message);
    }

    [Fact]
    public void Dispose_Vectors_DisposesTheAttachedIndex()
    {
        var kv = VectorsGolden.Random(200, 8, seed: 13);
        var index = kv.BuildIndex(IndexPath());
        kv.Dispose();
        Assert.Throws<ObjectDisposedException>(() => index.Expansion = 10);
        File.Delete(IndexPath()); // unmapped: the file can go
    }

    string WriteAll(string name, byte[] bytes)
    {
        File.WriteAllBytes(IndexPath(name), bytes);
        return IndexPath(name);
    }
}
