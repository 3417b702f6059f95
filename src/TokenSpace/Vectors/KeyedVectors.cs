using TokenSpace.Tensors;

namespace TokenSpace.Vectors;

/// <summary>
/// A set of vectors addressed by string keys, like gensim's <c>KeyedVectors</c>: the keys in file
/// order (most frequent first for word vectors), a row-major float32 matrix (count × dimensions),
/// and the queries of word-vector exploration. Unit-norm rows are computed once, on first use.
/// <para>
/// Every query that names a key throws <see cref="KeyNotFoundException"/> naming the key and close
/// spellings when it is not in the vocabulary. Scores are float32 cosine similarities computed in
/// one fixed order, so a single query, a batch and the fast scan return identical numbers.
/// </para>
/// </summary>
/// <example>
/// <code>
/// using var kv = VectorsFile.Load("glove.6B.100d.txt");
/// kv.MostSimilar(["king", "woman"], ["man"], topN: 1);   // [("queen", 0.7699)]
/// kv.Similarity("cat", "dog");                            // 0.8798
/// </code>
/// </example>
public sealed partial class KeyedVectors : IDisposable
{
    /// <summary>Below this many matrix elements a query scans float32 directly; the int8 copy would not pay for itself.</summary>
    const long CompactThreshold = 1 << 18;

    readonly KeyTable keys;
    ReadOnlyMemory<float> vectors; // (Count, Dimensions)
    IDisposable? owner;
    float[]? norms;
    bool disposed;
    ReadOnlyMemory<float>? unit;   // (Count, Dimensions) unit-norm rows; zero rows stay zero
    CompactIndex? compact;
    ApproximateIndex? approximateIndex;
    readonly Lock gate = new();

    /// <summary>Creates a set from keys and their vectors (keys.Count × dimensions, row-major).</summary>
    /// <exception cref="ArgumentException">A key repeats, or the matrix size is not keys × dimensions.</exception>
    public KeyedVectors(IEnumerable<string> keys, float[] vectors, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        this.keys = KeyTable.FromStrings(keys.ToArray(), (key, first, row) => new ArgumentException(
            $"duplicate key '{key}' at rows {first} and {row}"));
        if ((long)Count * dimensions != vectors.Length)
        {
            throw new ArgumentException($"matrix has {vectors.Length} floats, expected {Count} keys × {dimensions} dimensions");
        }
        this.keys.CheckUnique();
        this.vectors = vectors;
        Dimensions = dimensions;
    }

    /// <summary>
    /// For readers: wraps the keys and the matrix without copying (the matrix may be memory-mapped, kept alive by
    /// <paramref name="owner"/>). The keys' hash table is built on first lookup (which throws for a repeated key then)
    /// or by <see cref="CheckKeysUnique"/>.
    /// </summary>
    internal KeyedVectors(KeyTable keys, ReadOnlyMemory<float> vectors, int dimensions, IDisposable? owner)
    {
        this.keys = keys;
        this.vectors = vectors;
        this.owner = owner;
        Dimensions = dimensions;
    }

    /// <summary>Builds the key → row table now, throwing the reader's located error for a key that repeats.</summary>
    internal void CheckKeysUnique() => keys.CheckUnique();

    /// <summary>Number of keys (rows).</summary>
    public int Count => keys.Count;

    /// <summary>Length of every vector.</summary>
    public int Dimensions { get; }

    /// <summary>The keys in row order.</summary>
    public IReadOnlyList<string> Keys => keys;

    /// <summary>The raw matrix (Count × Dimensions), row-major; with float16 <see cref="Storage"/>, a widened copy made on each
    /// call.</summary>
    /// <exception cref="ObjectDisposedException">The vectors were disposed.</exception>
    public ReadOnlySpan<float> Vectors => RawVectors();

    /// <summary>True when the matrix is a memory-mapped view of a file rather than managed memory.</summary>
    public bool IsMemoryMapped => owner is not null;

    /// <summary>True when <paramref name="key"/> is in the vocabulary.</summary>
    public bool Contains(string key) => keys.Find(key) >= 0;

    /// <summary>Row of <paramref name="key"/>, or -1.</summary>
    public int TryGetIndex(string key) => keys.Find(key);

    /// <summary>Row of <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">The key is unknown (the message suggests close spellings).</exception>
    public int IndexOf(string key) => keys.Find(key) is >= 0 and var i ? i : throw KeySuggestions.NotFound(key, keys);

    /// <summary>The vector of <paramref name="key"/>, raw or scaled to unit length; with <see cref="Subwords"/>, also of a word outside the
    /// vocabulary.</summary>
    /// <exception cref="KeyNotFoundException">The key is unknown (and there are no n-gram vectors).</exception>
    public ReadOnlySpan<float> GetVector(string key, bool normalized = false) =>
        keys.Find(key) is >= 0 and var row ? Row(row, normalized) : OutOfVocabulary(key, normalized);

    /// <summary>Row <paramref name="row"/>, raw or unit-norm (a raw float16 row is widened into a new array).</summary>
    public ReadOnlySpan<float> Row(int row, bool normalized = false) =>
        normalized ? Units().Get(row, Streamed ? new float[Dimensions] : default)
            : RawRow(row, half is null ? default : new float[Dimensions]);

    // Every read of the matrix goes through here: after Dispose a mapped matrix points at unmapped memory.
    ReadOnlyMemory<float> Matrix
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return vectors;
        }
    }

    /// <summary>‖row‖₂ for every row (computed once, in double, then rounded: +∞ for the rare norm beyond float32's range).</summary>
    public ReadOnlySpan<float> Norms
    {
        get
        {
            var exact = RowNorms;
            lock (gate)
            {
                return norms ??= exact.Select(n => (float)n).ToArray();
            }
        }
    }

    /// <summary>All rows scaled to unit length (Count × Dimensions); zero rows stay zero.</summary>
    public ReadOnlySpan<float> NormalizedVectors => UnitMemory.Span;

    internal ReadOnlyMemory<float> UnitMemory
    {
        get
        {
            lock (gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                if (unit is null)
                {
                    var result = new float[(long)Count * Dimensions];
                    int d = Dimensions;
                    // Each row is divided by its double norm (not the rounded Norms): exact for every finite row.
                    Threads.For(Chunks(Count), c =>
                    {
                        var scratch = new float[d];
                        var (start, end) = ChunkRange(c, Count);
                        for (int i = start; i < end; i++)
                        {
                            var row = RawRow(i, scratch);
                            VectorMath.Scale(row, VectorMath.Norm(row), result.AsSpan(i * d, d));
                        }
                    });
                    unit = result;
                }
                return unit.Value;
            }
        }
    }

    /// <summary>
    /// Replaces the raw vectors by their unit-norm rows and keeps only that one matrix (gensim's
    /// <c>unit_normalize_all</c>): half the memory when only cosine queries are needed. Euclidean
    /// distances afterwards are between unit vectors. A float16 set becomes float32 (the unit rows are float32).
    /// </summary>
    public void UnitNormalizeAll()
    {
        var u = UnitMemory;
        lock (gate)
        {
            vectors = u;
            half = null;
            rowNorms = null;
            norms = Enumerable.Range(0, Count).Select(i => (float)VectorMath.Norm(u.Span.Slice(i * Dimensions, Dimensions))).ToArray();
            owner?.Dispose();
            owner = null;
        }
    }

    /// <summary>Cosine similarity of two keys. <c>kv.Similarity("cat", "dog")</c> → 0.88 on GloVe 100d.</summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    public float Similarity(string a, string b) => VectorMath.Dot(GetVector(a, true), GetVector(b, true));

    /// <summary>
    /// Distance between two keys: 1 − cosine similarity, or ‖a − b‖₂ of the raw vectors.
    /// <c>kv.Distance("nephew", "niece", DistanceMetric.Euclidean)</c>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    public float Distance(string a, string b, DistanceMetric metric = DistanceMetric.Cosine)
    {
        return metric == DistanceMetric.Cosine ? 1f - Similarity(a, b) : Euclidean(GetVector(a), GetVector(b));
    }

    /// <summary>
    /// The <paramref name="topN"/> keys most similar to the normalised mean of the unit vectors of
    /// <paramref name="positive"/> minus those of <paramref name="negative"/> (3CosAdd), searching only
    /// the first <paramref name="restrictVocab"/> rows when given; the query keys themselves are left out.
    /// <c>kv.MostSimilar(["king", "woman"], ["man"], 1)</c> → queen.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    /// <exception cref="ArgumentException">No key was given.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="restrictVocab"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="approximate"/> is set and no <see cref="Index"/> is
    /// attached.</exception>
    public IReadOnlyList<Neighbor> MostSimilar(IEnumerable<string> positive, IEnumerable<string>? negative = null, int topN = 10,
        int? restrictVocab = null,
        bool approximate = false)
    {
        var (query, rows) = MeanQuery(positive, negative ?? []);
        return Search(query, [rows], topN, restrictVocab, approximate)[0];
    }

    /// <summary>The neighbours of one key: <c>kv.MostSimilar("frog")</c>; <c>kv.MostSimilar("frog", approximate: true)</c> asks the
    /// <see cref="Index"/>.</summary>
    /// <exception cref="KeyNotFoundException">The key is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="restrictVocab"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="approximate"/> is set and no <see cref="Index"/> is
    /// attached.</exception>
    public IReadOnlyList<Neighbor> MostSimilar(string key, int topN = 10, int? restrictVocab = null, bool approximate = false) =>
        MostSimilar([key], null, topN, restrictVocab, approximate);

    /// <summary>
    /// <see cref="MostSimilar(IEnumerable{string}, IEnumerable{string}?, int, int?, bool)"/> for many
    /// queries at once: one pass over the matrix serves them all, spread over the threads.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="restrictVocab"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="approximate"/> is set and no <see cref="Index"/> is
    /// attached.</exception>
    public IReadOnlyList<Neighbor>[] MostSimilarBatch(IReadOnlyList<(IReadOnlyList<string> Positive,
        IReadOnlyList<string> Negative)> queries, int topN = 10,
        int? restrictVocab = null, bool approximate = false)
    {
        var flat = new float[(long)queries.Count * Dimensions];
        var exclude = new int[queries.Count][];
        for (int q = 0; q < queries.Count; q++)
        {
            var (vector, rows) = MeanQuery(queries[q].Positive, queries[q].Negative);
            vector.CopyTo(flat, q * Dimensions);
            exclude[q] = rows;
        }
        return Search(flat, exclude, topN, restrictVocab, approximate);
    }

    /// <summary>The <paramref name="topN"/> keys whose unit vectors are most similar to <paramref name="vector"/> (nothing left
    /// out).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="restrictVocab"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="approximate"/> is set and no <see cref="Index"/> is
    /// attached.</exception>
    public IReadOnlyList<Neighbor> SimilarByVector(ReadOnlySpan<float> vector, int topN = 10, int? restrictVocab = null,
        bool approximate = false)
    {
        if (vector.Length != Dimensions) throw new ArgumentException($"vector has {vector.Length} dimensions, expected {Dimensions}");
        var query = vector.ToArray();
        Normalize(query);
        return Search(query, [[]], topN, restrictVocab, approximate)[0];
    }

    /// <summary>
    /// The approximate-neighbour index the queries search when asked with <c>approximate: true</c>, or null;
    /// attached by <see cref="OpenIndex"/> or <see cref="BuildIndex"/> and disposed with these vectors.
    /// </summary>
    public ApproximateIndex? Index => approximateIndex;

    /// <summary>
    /// Maps the index file at <paramref name="path"/> (see <see cref="ApproximateIndex.PathBeside"/>) and
    /// attaches it as <see cref="Index"/>, replacing (and disposing) any attached before.
    /// <c>kv.OpenIndex(ApproximateIndex.PathBeside("glove.tsvec")); kv.MostSimilar("frog", approximate: true);</c>
    /// </summary>
    /// <exception cref="IO.FileFormatException">The file is not an index, or was built for other vectors.</exception>
    public ApproximateIndex OpenIndex(string path) => Attach(ApproximateIndex.Open(path, this));

    /// <summary>
    /// Builds an index of these vectors (<see cref="ApproximateIndex.Build"/>), writes it to <paramref name="path"/>
    /// and attaches it as <see cref="Index"/>.
    /// </summary>
    public ApproximateIndex BuildIndex(string path, ApproximateIndexOptions? options = null, Action<double>? progress = null) =>
        Attach(ApproximateIndex.Build(this, path, options, progress));

    ApproximateIndex Attach(ApproximateIndex index)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            approximateIndex?.Dispose();
            approximateIndex = index;
        }
        return index;
    }

    /// <summary>
    /// 3CosMul (Levy &amp; Goldberg 2014): ranks keys by Π(1 + cos(x, p))/2 over <paramref name="positive"/>
    /// divided by Π(1 + cos(x, n))/2 over <paramref name="negative"/> + 1e-6; query keys left out.
    /// <c>kv.MostSimilarCosMul(["king", "woman"], ["man"], 1)</c> → queen.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="restrictVocab"/> is less than 1.</exception>
    public IReadOnlyList<Neighbor> MostSimilarCosMul(IEnumerable<string> positive, IEnumerable<string>? negative = null, int topN = 10,
        int? restrictVocab = null)
    {
        var pos = positive.Select(IndexOf).ToArray();
        var neg = (negative ?? []).Select(IndexOf).ToArray();
        if (pos.Length == 0) throw new ArgumentException("cannot compute similarity with no positive key");
        if (topN < 1) return [];
        int end = RowEnd(restrictVocab);
        var excluded = pos.Concat(neg).ToHashSet();
        var posUnit = pos.Select(p => Row(p, normalized: true).ToArray()).ToArray();
        var negUnit = neg.Select(n => Row(n, normalized: true).ToArray()).ToArray();
        int chunks = Chunks(end);
        var partial = new TopK[chunks];
        var units = Units();
        Threads.For(chunks, c =>
        {
            var scratch = new float[Dimensions];
            var best = new TopK(topN);
            var (start, stop) = ChunkRange(c, end);
            for (int i = start; i < stop; i++)
            {
                if (excluded.Contains(i)) continue;
                var row = units.Get(i, scratch);
                float num = 1f, den = 1f;
                foreach (var p in posUnit) num *= (1f + VectorMath.Dot(row, p)) / 2f;
                foreach (var n in negUnit) den *= (1f + VectorMath.Dot(row, n)) / 2f;
                best.Offer(num / (den + 0.000001f), i);
            }
            partial[c] = best;
        });
        return Merge(partial, topN);
    }

    /// <summary>
    /// The key of <paramref name="keys"/> furthest from the unit-normalised mean of their unit vectors
    /// (lowest dot product with it): <c>kv.DoesntMatch(["breakfast", "cereal", "dinner", "lunch"])</c> → cereal.
    /// As in gensim 4, keys not in the vocabulary are ignored.
    /// </summary>
    /// <exception cref="ArgumentException">None of the keys is in the vocabulary (or none was given).</exception>
    public string DoesntMatch(IEnumerable<string> keys) => RankByCentrality(keys)[^1].Key;

    /// <summary>
    /// Keys closer (by cosine) to <paramref name="a"/> than <paramref name="b"/> is, in row order,
    /// without <paramref name="a"/> itself (gensim's <c>closer_than</c>).
    /// </summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    public IReadOnlyList<string> CloserThan(string a, string b)
    {
        int ia = IndexOf(a), ib = IndexOf(b);
        var sims = SimilaritiesTo(ia);
        float bar = sims[ib];
        var result = new List<string>();
        for (int i = 0; i < Count; i++)
        {
            if (i != ia && sims[i] > bar) result.Add(keys[i]);
        }
        return result;
    }

    /// <summary>1 + the number of keys closer to <paramref name="a"/> than <paramref name="b"/> is: <c>kv.Rank("king",
    /// "queen")</c>.</summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    public int Rank(string a, string b) => CloserThan(a, b).Count + 1;

    /// <summary>The key of <paramref name="candidates"/> most similar to <paramref name="key"/> (gensim's <c>most_similar_to_given</c>);
    /// the first wins ties.</summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    /// <exception cref="ArgumentException">No candidate was given.</exception>
    public string ClosestTo(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        float bestScore = float.NegativeInfinity;
        foreach (string c in candidates)
        {
            float s = Similarity(key, c);
            if (best is null || s > bestScore) (best, bestScore) = (c, s);
        }
        return best ?? throw new ArgumentException("no candidates given");
    }

    /// <summary>
    /// Top <paramref name="k"/> rows of [0, rowEnd) by exact float32 cosine with each unit query of
    /// <paramref name="queries"/> (count × Dimensions), leaving out each query's <paramref name="exclude"/>
    /// rows. The int8 scan with exact re-ranking gives the same answer as <paramref name="exact"/>;
    /// <paramref name="approximate"/> asks the <see cref="Index"/> for the rows instead.
    /// </summary>
    internal (int Row, float Score)[][] SearchRows(float[] queries, int[][] exclude, int k, int rowEnd, bool exact = false,
        bool approximate = false)
    {
        if (approximate) return SearchIndex(queries, exclude, k, rowEnd);
        if (Streamed) return SearchStreamed(queries, exclude, k, rowEnd);
        var u = UnitMemory;
        if (exact || (long)rowEnd * Dimensions < CompactThreshold)
        {
            return CompactIndex.SearchExact(u, Dimensions, queries, k, rowEnd, exclude);
        }
        CompactIndex index;
        lock (gate) index = compact ??= CompactIndex.Build(u, Count, Dimensions);
        return index.Search(u, queries, k, rowEnd, exclude);
    }

    /// <summary>
    /// The index's rows for each query (k more than asked, so that dropping the excluded rows leaves k),
    /// scored exactly as the full scan scores them. Each query is one unit of work: any thread count gives the same answer.
    /// </summary>
    (int Row, float Score)[][] SearchIndex(float[] queries, int[][] exclude, int k, int rowEnd)
    {
        var index = approximateIndex ?? throw new InvalidOperationException(
            "no approximate index is attached: build one (KeyedVectors.BuildIndex) or open one (KeyedVectors.OpenIndex)");
        int d = Dimensions;
        var result = new (int Row, float Score)[exclude.Length][];
        var units = Units();
        Threads.For(exclude.Length, q =>
        {
            var query = queries.AsSpan(q * d, d);
            var best = new TopK(k);
            var scratch = new float[d];
            foreach (int row in index.Search(query, k + exclude[q].Length, rowEnd))
            {
                if (Array.IndexOf(exclude[q], row) < 0) best.Offer(VectorMath.Dot(query, units.Get(row, scratch)), row);
            }
            result[q] = best.Sorted();
        });
        return result;
    }

    /// <summary>
    /// The unit mean of +positive −negative unit vectors (gensim's get_mean_vector) and the query rows to leave out
    /// (a word outside the vocabulary of a fastText set has a vector but no row).
    /// </summary>
    internal (float[] Query, int[] Rows) MeanQuery(IEnumerable<string> positive, IEnumerable<string> negative)
    {
        var weighted = positive.Select(k => (Key: k, Weight: 1.0)).Concat(negative.Select(k => (Key: k, Weight: -1.0))).ToList();
        if (weighted.Count == 0) throw new ArgumentException("cannot compute similarity with no input");
        var query = MeanVector(weighted.Select(w => (GetVector(w.Key, normalized: true).ToArray(), w.Weight)).ToList(),
            postNormalize: true);
        return (query, weighted.Select(w => TryGetIndex(w.Key)).Where(r => r >= 0).Distinct().ToArray());
    }

    /// <summary>The unit mean Σ weight·unit(row) / Σ|weight| (gensim's get_mean_vector with pre- and post-normalisation).</summary>
    /// <exception cref="ArgumentException">No row was given.</exception>
    internal float[] MeanQuery(IReadOnlyList<(int Row, double Weight)> weighted)
    {
        if (weighted.Count == 0) throw new ArgumentException("cannot compute similarity with no input");
        return MeanVector(weighted.Select(w => (Row(w.Row, normalized: true).ToArray(), w.Weight)).ToList(), postNormalize: true);
    }

    /// <summary>The end of the searched rows: the first <paramref name="restrictVocab"/> keys, or all when null (gensim's
    /// <c>restrict_vocab=None</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="restrictVocab"/> is less than 1.</exception>
    internal int RowEnd(int? restrictVocab)
    {
        // gensim slices vectors[:restrict_vocab]: 0 finds nothing and a negative count silently drops the last keys.
        if (restrictVocab < 1)
            throw new ArgumentOutOfRangeException(nameof(restrictVocab),
                $"restrict-vocab must be at least 1, got {restrictVocab} (leave it out to search every key)");
        return restrictVocab is { } n ? Math.Min(Count, n) : Count;
    }

    IReadOnlyList<Neighbor>[] Search(float[] queries, int[][] exclude, int topN, int? restrictVocab, bool approximate)
    {
        int end = RowEnd(restrictVocab);
        if (topN < 1) return exclude.Select(_ => (IReadOnlyList<Neighbor>)[]).ToArray();
        var found = SearchRows(queries, exclude, topN, end, approximate: approximate);
        return found.Select(r => (IReadOnlyList<Neighbor>)r.Select(p => new Neighbor(keys[p.Row], p.Score)).ToList()).ToArray();
    }

    float[] SimilaritiesTo(int row)
    {
        var q = Row(row, normalized: true).ToArray();
        var sims = new float[Count];
        var units = Units();
        Threads.For(Chunks(Count), c =>
        {
            var scratch = new float[Dimensions];
            var (start, end) = ChunkRange(c, Count);
            for (int i = start; i < end; i++) sims[i] = VectorMath.Dot(q, units.Get(i, scratch));
        });
        return sims;
    }

    List<Neighbor> Merge(TopK[] partial, int topN)
    {
        var best = new TopK(topN);
        foreach (var part in partial)
        {
            foreach (var (row, score) in part.Sorted()) best.Offer(score, row);
        }
        return best.Sorted().Select(p => new Neighbor(keys[p.Row], p.Score)).ToList();
    }

    static void Normalize(Span<float> x) => VectorMath.Scale(x, VectorMath.Norm(x), x);

    /// <summary>Fixed work units of 8192 rows: the partition never depends on the thread count.</summary>
    static int Chunks(int rows) => Math.Max(1, (rows + 8191) / 8192);

    static (int Start, int End) ChunkRange(int chunk, int rows) => (chunk * 8192, Math.Min(rows, (chunk + 1) * 8192));

    /// <summary>Releases the memory-mapped file, if any; afterwards every access to the vectors throws
    /// <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            vectors = default;
            half = null;
            owner?.Dispose();
            owner = null;
            approximateIndex?.Dispose();
            approximateIndex = null;
            subwords?.Dispose();
        }
    }
}
