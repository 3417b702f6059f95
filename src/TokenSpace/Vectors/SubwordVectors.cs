using System.Text;

namespace TokenSpace.Vectors;

/// <summary>
/// fastText's character n-gram vectors (Bojanowski et al. 2017), which give any word a vector: the
/// n-grams of <c>&lt;word&gt;</c> with <see cref="MinN"/> … <see cref="MaxN"/> characters, each hashed
/// (FNV-1a) into one of <see cref="Buckets"/> rows; a word outside the vocabulary gets the mean of its
/// n-gram rows, as fastText's <c>getWordVector</c> and gensim's <c>FastTextKeyedVectors.get_vector</c> compute it.
/// Loaded from a fastText <c>.bin</c> (<see cref="KeyedVectors.Subwords"/>); the rows may be a view of the mapped file.
/// </summary>
public sealed class SubwordVectors : IDisposable
{
    readonly ReadOnlyMemory<float> rows;                // (ngram rows, Dimensions)
    readonly IReadOnlyDictionary<int, int>? pruned;     // bucket → row of a pruned model, else null
    IDisposable? owner;
    bool disposed;

    /// <summary>
    /// N-gram rows <paramref name="rows"/> (bucket rows × <paramref name="dimensions"/>, or one row per kept bucket of a
    /// pruned model, <paramref name="pruned"/> mapping bucket → row), kept alive by <paramref name="owner"/>.
    /// </summary>
    internal SubwordVectors(ReadOnlyMemory<float> rows, int dimensions, int minN, int maxN, int buckets, IReadOnlyDictionary<int,
        int>? pruned, IDisposable? owner)
    {
        this.rows = rows;
        this.pruned = pruned;
        this.owner = owner;
        Dimensions = dimensions;
        MinN = minN;
        MaxN = maxN;
        Buckets = buckets;
    }

    /// <summary>Length of every vector.</summary>
    public int Dimensions { get; }

    /// <summary>Shortest n-gram, in characters (fastText's <c>minn</c>).</summary>
    public int MinN { get; }

    /// <summary>Longest n-gram, in characters (fastText's <c>maxn</c>).</summary>
    public int MaxN { get; }

    /// <summary>Number of hash buckets (fastText's <c>bucket</c>).</summary>
    public int Buckets { get; }

    /// <summary>
    /// The vector fastText gives <paramref name="word"/> from its n-grams alone (the out-of-vocabulary case):
    /// the mean of its n-gram rows; the zero vector when it has no n-gram (gensim returns the origin then too).
    /// <c>kv.Subwords!.WordVector("kingdoms")</c>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The vectors were disposed.</exception>
    public float[] WordVector(string word)
    {
        var sum = new double[Dimensions];
        var result = new float[Dimensions];
        Mean(sum, AddNgrams(word, sum), result);
        return result;
    }

    /// <summary>Adds the row of every n-gram of <paramref name="word"/> to <paramref name="sum"/>, in fastText's order; returns how
    /// many.</summary>
    internal int AddNgrams(string word, Span<double> sum)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var span = rows.Span;
        int count = 0;
        foreach (int row in NgramRows(word))
        {
            var r = span.Slice(row * Dimensions, Dimensions);
            for (int j = 0; j < sum.Length; j++) sum[j] += r[j];
            count++;
        }
        return count;
    }

    /// <summary>
    /// <paramref name="sum"/> / <paramref name="count"/> rounded to float32 (zeros for no count). fastText and gensim
    /// sum in float32, which can overflow to ∞ for finite rows; the double sum cannot, and differs from theirs by rounding only.
    /// </summary>
    internal static void Mean(ReadOnlySpan<double> sum, int count, Span<float> mean)
    {
        for (int j = 0; j < sum.Length; j++) mean[j] = count == 0 ? 0f : (float)(sum[j] / count);
    }

    /// <summary>
    /// The n-gram rows of <paramref name="word"/> as fastText's <c>computeSubwords</c> lists them: for each
    /// character start of <c>&lt;word&gt;</c> (UTF-8), the n-grams of MinN … MaxN characters, without the
    /// lone <c>&lt;</c> and <c>&gt;</c>, repeats kept; a pruned model skips buckets it dropped.
    /// </summary>
    internal List<int> NgramRows(string word)
    {
        var bytes = Encoding.UTF8.GetBytes("<" + word + ">");
        var found = new List<int>();
        for (int i = 0; i < bytes.Length; i++)
        {
            if ((bytes[i] & 0xC0) == 0x80) continue;
            int j = i;
            for (int n = 1; j < bytes.Length && n <= MaxN; n++)
            {
                j++;
                while (j < bytes.Length && (bytes[j] & 0xC0) == 0x80) j++;
                if (n < MinN || (n == 1 && (i == 0 || j == bytes.Length))) continue;
                int bucket = (int)(Hash(bytes.AsSpan(i, j - i)) % (uint)Buckets);
                if (pruned is null) found.Add(bucket);
                else if (pruned.TryGetValue(bucket, out int row)) found.Add(row);
            }
        }
        return found;
    }

    /// <summary>
    /// fastText's FNV-1a: each byte is XORed in as a sign-extended <c>int8</c> (the C++ <c>int8_t(str[i])</c>),
    /// so a byte ≥ 0x80 sets the upper 24 bits too; plain FNV-1a differs for every non-ASCII n-gram.
    /// </summary>
    internal static uint Hash(ReadOnlySpan<byte> bytes)
    {
        uint h = 2166136261;
        foreach (byte b in bytes)
        {
            h ^= (uint)(sbyte)b;
            h *= 16777619;
        }
        return h;
    }

    /// <summary>Releases the mapped file, if any; idempotent.</summary>
    public void Dispose()
    {
        disposed = true;
        owner?.Dispose();
        owner = null;
    }
}
