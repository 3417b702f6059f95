using TokenSpace.Tensors;

namespace TokenSpace.Vectors;

// The rest of gensim 4's KeyedVectors: queries over sets of keys (mean vectors, centrality, set
// similarity), distances to many keys, and building changed sets. Each follows gensim's arithmetic
// (float32 sums, the same normalisations) so its answers match gensim's to float32 rounding.
public sealed partial class KeyedVectors
{
    /// <summary>
    /// The weighted mean of the vectors of <paramref name="keys"/> (gensim's <c>get_mean_vector</c>): Σ wᵢ·vᵢ / Σ|wᵢ|,
    /// with each vᵢ unit-normed first when <paramref name="preNormalize"/>, and the mean unit-normed when
    /// <paramref name="postNormalize"/>. Keys not in the vocabulary are skipped unless <paramref name="ignoreMissing"/> is false.
    /// <c>kv.GetMeanVector(["king", "queen"], postNormalize: true)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">No key was given, or the weights are not one per key.</exception>
    /// <exception cref="KeyNotFoundException">A key is unknown and <paramref name="ignoreMissing"/> is false.</exception>
    public float[] GetMeanVector(IReadOnlyList<string> keys, IReadOnlyList<double>? weights = null, bool preNormalize = true,
        bool postNormalize = false, bool ignoreMissing = true)
    {
        if (keys.Count == 0) throw new ArgumentException("cannot compute the mean of no keys");
        if (weights is not null && weights.Count != keys.Count)
        {
            throw new ArgumentException($"{weights.Count} weights for {keys.Count} keys: give one weight per key");
        }
        var rows = new List<(int Row, double Weight)>();
        for (int i = 0; i < keys.Count; i++)
        {
            int row = ignoreMissing ? TryGetIndex(keys[i]) : IndexOf(keys[i]);
            if (row >= 0) rows.Add((row, weights?[i] ?? 1.0));
        }
        return MeanVector(rows.Select(r => (Row(r.Row, preNormalize).ToArray(), r.Weight)).ToList(), postNormalize);
    }

    /// <summary>
    /// Cosine similarity of the means of two sets of raw vectors (gensim's <c>n_similarity</c>); unknown keys are skipped.
    /// <c>kv.NSimilarity(["sushi", "shop"], ["japanese", "restaurant"])</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A set is empty.</exception>
    public float NSimilarity(IReadOnlyList<string> first, IReadOnlyList<string> second)
    {
        if (first.Count == 0 || second.Count == 0) throw new ArgumentException("both sets need at least one key");
        var a = GetMeanVector(first, preNormalize: false, postNormalize: true);
        var b = GetMeanVector(second, preNormalize: false, postNormalize: true);
        return VectorMath.Dot(a, b);
    }

    /// <summary>
    /// Cosine distances 1 − cos from <paramref name="key"/> to each of <paramref name="others"/>, or to every key in
    /// row order (itself included) when none are given (gensim's <c>distances</c>). <c>kv.Distances("king", ["queen", "man"])</c>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    public float[] Distances(string key, IReadOnlyList<string>? others = null) => Distances(GetVector(key), others);

    /// <summary>As <see cref="Distances(string, IReadOnlyList{string}?)"/>, from a vector of length <see cref="Dimensions"/>.</summary>
    /// <exception cref="ArgumentException">The vector's length is not <see cref="Dimensions"/>.</exception>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    public float[] Distances(ReadOnlySpan<float> vector, IReadOnlyList<string>? others = null)
    {
        if (vector.Length != Dimensions) throw new ArgumentException($"vector has {vector.Length} dimensions, expected {Dimensions}");
        var unitQuery = vector.ToArray();
        Normalize(unitQuery);
        int[] rows = others is { Count: > 0 } ? others.Select(IndexOf).ToArray() : Enumerable.Range(0, Count).ToArray();
        var result = new float[rows.Length];
        var units = Units();
        Threads.For(Chunks(rows.Length), c =>
        {
            var scratch = new float[Dimensions];
            var (start, end) = ChunkRange(c, rows.Length);
            for (int i = start; i < end; i++) result[i] = 1f - VectorMath.Dot(unitQuery, units.Get(rows[i], scratch));
        });
        return result;
    }

    /// <summary>
    /// The keys of <paramref name="keys"/> that are in the vocabulary, ranked by cosine similarity to the unit mean of their
    /// (unit, with <paramref name="useNorm"/>) vectors, most central first; equal scores rank the larger key first, as
    /// gensim's reverse sort of (similarity, key) does. <c>kv.RankByCentrality(["breakfast", "cereal", "dinner", "lunch"])</c>.
    /// </summary>
    /// <exception cref="ArgumentException">None of the keys is in the vocabulary.</exception>
    public IReadOnlyList<Neighbor> RankByCentrality(IEnumerable<string> keys, bool useNorm = true)
    {
        var used = keys.Where(Contains).ToList();
        if (used.Count == 0) throw new ArgumentException("cannot rank an empty list: none of the given keys is in the vocabulary");
        var vectors = used.Select(k => GetVector(k, useNorm).ToArray()).ToList();
        var mean = MeanVector(vectors.Select(v => (v, 1.0)).ToList(), postNormalize: true);
        return used.Select((k, i) => new Neighbor(k, VectorMath.Dot(vectors[i], mean)))
            .OrderByDescending(n => n.Similarity).ThenByDescending(n => n.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// cos(a, b) divided by the sum of the similarities of a's <paramref name="topN"/> nearest keys (Leeuwenberg et al. 2016;
    /// gensim's <c>relative_cosine_similarity</c>): above 1/topN, b is closer to a than an average top neighbour.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    /// <exception cref="ArgumentException">a has no neighbours (a set of one key, or <paramref name="topN"/> below 1).</exception>
    public double RelativeCosineSimilarity(string a, string b, int topN = 10)
    {
        var near = MostSimilar(a, topN);
        if (near.Count == 0) throw new ArgumentException("cannot compute a relative cosine similarity without any similar keys");
        return Similarity(a, b) / near.Sum(n => (double)n.Similarity);
    }

    /// <summary>
    /// A new set with <paramref name="newKeys"/> and their vectors (newKeys.Count × Dimensions) appended (gensim's
    /// <c>add_vectors</c>); a key already present keeps its row and, with <paramref name="replace"/>, takes the new vector.
    /// Unlike gensim this set is left unchanged: sets are shared by readers and their caches stay valid.
    /// </summary>
    /// <exception cref="ArgumentException">The matrix is not newKeys.Count × Dimensions, or a new key repeats.</exception>
    public KeyedVectors AddVectors(IReadOnlyList<string> newKeys, ReadOnlySpan<float> newVectors, bool replace = false)
    {
        int d = Dimensions;
        if ((long)newKeys.Count * d != newVectors.Length)
        {
            throw new ArgumentException($"{newVectors.Length} values for {newKeys.Count} keys × {d} dimensions");
        }
        var allKeys = keys.ToList();
        var matrix = new List<float>(RawVectors().ToArray());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < newKeys.Count; i++)
        {
            if (!seen.Add(newKeys[i])) throw new ArgumentException($"'{newKeys[i]}' is given twice");
            var row = newVectors.Slice(i * d, d);
            int at = TryGetIndex(newKeys[i]);
            if (at < 0)
            {
                allKeys.Add(newKeys[i]);
                foreach (float v in row) matrix.Add(v);
            }
            else if (replace)
            {
                for (int j = 0; j < d; j++) matrix[at * d + j] = row[j];
            }
        }
        return new KeyedVectors(allKeys, [.. matrix], d);
    }

    /// <summary>
    /// A new set with the rows reordered by <paramref name="counts"/> (one per key), largest first (gensim's
    /// <c>sort_by_descending_frequency</c>, which reverses an ascending sort: equal counts end up in reverse row order).
    /// </summary>
    /// <exception cref="ArgumentException">The counts are not one per key.</exception>
    public KeyedVectors SortByDescendingFrequency(IReadOnlyList<long> counts)
    {
        if (counts.Count != Count) throw new ArgumentException($"{counts.Count} counts for {Count} keys: give one count per key");
        var order = Enumerable.Range(0, Count).OrderBy(i => counts[i]).ThenBy(i => i).Reverse().ToArray();
        int d = Dimensions;
        var matrix = new float[(long)Count * d];
        for (int r = 0; r < order.Length; r++) Row(order[r]).CopyTo(matrix.AsSpan(r * d, d));
        return new KeyedVectors(order.Select(i => keys[i]), matrix, d);
    }

    /// <summary>
    /// Σ w·v / Σ|w| over the given vectors, as gensim computes it: the running sum stored in float32 after each term,
    /// divided in float32; with <paramref name="postNormalize"/> scaled to unit length (norm in double). No vectors: zeros.
    /// </summary>
    float[] MeanVector(IReadOnlyList<(float[] Vector, double Weight)> weighted, bool postNormalize)
    {
        var mean = new float[Dimensions];
        double total = 0;
        foreach (var (v, weight) in weighted)
        {
            for (int j = 0; j < mean.Length; j++) mean[j] = (float)(mean[j] + weight * v[j]);
            total += Math.Abs(weight);
        }
        if (total > 0)
        {
            for (int j = 0; j < mean.Length; j++) mean[j] = (float)(mean[j] / total);
        }
        if (postNormalize) Normalize(mean);
        return mean;
    }
}
