using TokenSpace.Formats;
using TokenSpace.Tensors;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

[Collection(ProcessWideState.Name)]
public class CompactIndexTests
{
    static float[] Queries(KeyedVectors kv, int count, int seed)
    {
        var rng = new Random(seed);
        var q = new float[count * kv.Dimensions];
        for (int b = 0; b < count; b++)
        {
            // Half the queries are existing unit rows (exact ties with themselves and duplicates), half random.
            if (b % 2 == 0) kv.Row(rng.Next(kv.Count), normalized: true).CopyTo(q.AsSpan(b * kv.Dimensions));
            else for (int j = 0; j < kv.Dimensions; j++) q[b * kv.Dimensions + j] = (float)rng.NextDouble() - 0.5f;
        }
        return q;
    }

    static void AssertIdentical((int Row, float Score)[][] expected, (int Row, float Score)[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int b = 0; b < expected.Length; b++) Assert.Equal(expected[b], actual[b]);
    }

    [Theory]
    [InlineData(1, 37)]
    [InlineData(5, 16)]
    [InlineData(50, 101)]
    public void Search_RandomVectors_IdenticalToExactFloat32(int k, int dims)
    {
        using var kv = VectorsGolden.Random(3001, dims, seed: dims);
        var queries = Queries(kv, 13, seed: k);
        var exclude = Enumerable.Range(0, 13).Select(b => b % 3 == 0 ? new[] { b, 10 } : Array.Empty<int>()).ToArray();
        var index = CompactIndex.Build(kv.UnitMemory, kv.Count, kv.Dimensions);
        foreach (int rowEnd in new[] { kv.Count, 1000, 17 })
        {
            var exact = CompactIndex.SearchExact(kv.UnitMemory, kv.Dimensions, queries, k, rowEnd, exclude);
            AssertIdentical(exact, index.Search(kv.UnitMemory, queries, k, rowEnd, exclude));
        }
    }

    [Fact]
    public void Search_ManyQueriesOverSeveralTiles_IdenticalToExactFloat32()
    {
        // 70 queries (many full query groups and a partial last one) over 9000 rows, whole and cut at
        // row 5000, with some queries excluding rows: the large-batch path must equal the exact search.
        using var kv = VectorsGolden.Random(9000, 16, seed: 11);
        var queries = Queries(kv, 70, seed: 12);
        var exclude = Enumerable.Range(0, 70).Select(b => b % 4 == 0 ? new[] { b, 4100 } : Array.Empty<int>()).ToArray();
        var index = CompactIndex.Build(kv.UnitMemory, kv.Count, kv.Dimensions);
        foreach (int rowEnd in new[] { kv.Count, 5000 })
        {
            var exact = CompactIndex.SearchExact(kv.UnitMemory, kv.Dimensions, queries, 5, rowEnd, exclude);
            AssertIdentical(exact, index.Search(kv.UnitMemory, queries, 5, rowEnd, exclude));
        }
    }

    [Fact]
    public void Search_SingleQuery_SameAsInABatch()
    {
        using var kv = VectorsGolden.Random(5000, 24, seed: 3);
        var queries = Queries(kv, 6, seed: 4);
        var index = CompactIndex.Build(kv.UnitMemory, kv.Count, kv.Dimensions);
        var batch = index.Search(kv.UnitMemory, queries, 7, kv.Count, new int[6][].Select(_ => Array.Empty<int>()).ToArray());
        for (int b = 0; b < 6; b++)
        {
            var single = index.Search(kv.UnitMemory, queries.AsSpan(b * 24, 24).ToArray(), 7, kv.Count, [[]]);
            Assert.Equal(batch[b], single[0]);
        }
    }

    [Fact]
    public void Search_AnyThreadCount_SameResult()
    {
        using var kv = VectorsGolden.Random(20000, 20, seed: 5);
        var queries = Queries(kv, 9, seed: 6);
        var exclude = new int[9][].Select(_ => Array.Empty<int>()).ToArray();
        int saved = Threads.Count;
        try
        {
            Threads.Count = 1;
            var one = kv.SearchRows(queries, exclude, 10, kv.Count);
            Threads.Count = 3;
            AssertIdentical(one, kv.SearchRows(queries, exclude, 10, kv.Count));
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void Search_GloVe_IdenticalToExactFloat32()
    {
        string path = TestData.Pretrained("glove-100d");
        using var kv = VectorsFile.Load(path);
        var queries = Queries(kv, 70, seed: 7);
        var exclude = new int[70][].Select(_ => Array.Empty<int>()).ToArray();
        var exact = kv.SearchRows(queries, exclude, 10, kv.Count, exact: true);
        AssertIdentical(exact, kv.SearchRows(queries, exclude, 10, kv.Count));
    }
}
