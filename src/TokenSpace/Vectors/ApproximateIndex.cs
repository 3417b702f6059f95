using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using TokenSpace.IO;
using TokenSpace.Tensors;

namespace TokenSpace.Vectors;

/// <summary>How an <see cref="ApproximateIndex"/> stores the rows its graph links and walks.</summary>
public enum IndexDtype
{
    /// <summary>4 bytes per value: the graph's distances are the exact float32 cosines.</summary>
    Float32,

    /// <summary>2 bytes per value: half the index's size, distances nearly exact.</summary>
    Float16,

    /// <summary>1 byte per value (each row scaled to ±127): a quarter of the size, coarser distances.</summary>
    Int8,
}

/// <summary>The build settings of an <see cref="ApproximateIndex"/> (HNSW's M and efConstruction, the stored dtype).</summary>
public sealed record ApproximateIndexOptions
{
    /// <summary>HNSW's M: links per node on the upper layers (twice as many on the bottom one). hnswlib's usual 16.</summary>
    public int Connectivity { get; init; } = 16;

    /// <summary>HNSW's efConstruction: candidates kept while linking a new node.</summary>
    public int ExpansionAdd { get; init; } = 128;

    /// <summary>How the index stores the rows.</summary>
    public IndexDtype Dtype { get; init; } = IndexDtype.Float32;
}

/// <summary>
/// An approximate nearest-neighbour index (an HNSW graph, <see cref="HnswGraph{TCode}"/>) over the unit rows of one
/// <see cref="KeyedVectors"/>, kept in a file beside the vectors. Row numbers are the graph's nodes.
/// <para>
/// File layout (version 2, little-endian): the 8-byte magic <c>TSANN\0\0\1</c>, then
/// <c>int32 version, int32 dtype, int64 count, int32 dimensions, int32 connectivity, int32 expansion_add,
/// int32 entry point, 16 bytes XxHash128 of the keys and float32 rows, int64 length</c> of the graph that
/// follows at byte 128 (<see cref="HnswLayout"/>), <c>16 bytes XxHash128</c> of the graph, zeros to byte 128.
/// Opening maps the file and searches the graph in place (a view, not a copy), after checking that count,
/// dimensions and hash match the vectors it is opened for, and that the graph is intact.
/// </para>
/// <para>
/// A search keeps the expansion's best rows by the stored dtype's scores, then ranks them by the exact
/// float32 cosines, so an approximate answer differs from the exact one only in which rows it found, never
/// in their scores. Node levels come from a fixed-seed generator. A build on one thread links the rows in
/// order and writes the same bytes every time; on more threads the order in which the rows are linked
/// depends on timing, and so does the graph.
/// </para>
/// </summary>
public sealed unsafe class ApproximateIndex : IDisposable
{
    /// <summary>The version this build writes and reads.</summary>
    public const int FormatVersion = 2;

    const int HeaderBytes = 128;

    /// <summary>The seed of the node levels (hnswlib's default).</summary>
    const int LevelSeed = 100;

    static ReadOnlySpan<byte> Magic => "TSANN\0\0\u0001"u8;

    readonly MappedFile file;
    readonly IHnswGraph graph;
    int expansion = 64;
    int searching;
    volatile bool disposed;

    ApproximateIndex(MappedFile file, IHnswGraph graph, ApproximateIndexOptions options, long count, int dims)
    {
        this.file = file;
        this.graph = graph;
        Options = options;
        Count = count;
        Dimensions = dims;
    }

    /// <summary>The file the index was opened from.</summary>
    public string FilePath => file.Path;

    /// <summary>The settings it was built with.</summary>
    public ApproximateIndexOptions Options { get; }

    /// <summary>Rows indexed.</summary>
    public long Count { get; }

    /// <summary>Dimensions of a row.</summary>
    public int Dimensions { get; }

    /// <summary>
    /// HNSW's ef at search time: candidates kept while walking the graph (at least the number of
    /// neighbours asked for is always used). Higher finds more of the true neighbours, more slowly.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int Expansion
    {
        get => expansion;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ObjectDisposedException.ThrowIf(disposed, this);
            expansion = value;
        }
    }

    /// <summary>The widest SIMD the float32 kernel uses on this machine ("Vector512", "Vector256" or "scalar").</summary>
    public static string HardwareAcceleration =>
        Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar";

    /// <summary>Where the index of the vectors at <paramref name="vectorsPath"/> lives by default: beside them, with ".ann"
    /// appended.</summary>
    public static string PathBeside(string vectorsPath) => Path.TrimEndingDirectorySeparator(vectorsPath) + ".ann";

    /// <summary>
    /// Builds the index of <paramref name="vectors"/>' unit rows on <see cref="Threads.Count"/> threads and
    /// writes it to <paramref name="path"/> atomically; <paramref name="progress"/> hears the fraction of
    /// rows added. Returns the written file opened for <paramref name="vectors"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Connectivity is below 2 or expansion below 1.</exception>
    public static ApproximateIndex Build(KeyedVectors vectors, string path, ApproximateIndexOptions? options = null,
        Action<double>? progress = null)
    {
        options ??= new ApproximateIndexOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Connectivity, 2, "connectivity");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ExpansionAdd, 1, "expansion-add");
        int n = vectors.Count, d = vectors.Dimensions, m = options.Connectivity;
        // hnswlib's levels: ⌊−ln U / ln M⌋, so about one node in M reaches each next layer.
        var random = new Random(LevelSeed);
        var levels = new int[n];
        long levelSum = 0;
        for (int i = 0; i < n; i++)
        {
            levels[i] = (int)Math.Min(HnswLayout.MaxLevel, -Math.Log(1 - random.NextDouble()) / Math.Log(m));
            levelSum += levels[i];
        }
        var shape = Layout(options.Dtype, null, n, d, m);
        long length = shape.Length(levelSum);
        byte* body = (byte*)NativeMemory.AlignedAlloc((nuint)length, 64);
        try
        {
            NativeMemory.Clear(body, (nuint)length);
            var layout = Layout(options.Dtype, body, n, d, m);
            for (int i = 0, start = 0; i < n; start += levels[i++] * (m + 1))
            {
                layout.Levels[i] = levels[i];
                layout.UpperStarts[i] = levels[i] > 0 ? start : 0;
            }
            var graph = Graph(options.Dtype, layout, d, 0);
            graph.Build(vectors.UnitMemory, options.ExpansionAdd, progress);
            var header = Header(options, n, d, graph.Entry, Fingerprint(vectors), length, Checksum(body, length));
            AtomicFile.Write(path, s =>
            {
                s.Write(header);
                for (long at = 0; at < length; at += 1 << 30)
                {
                    s.Write(new ReadOnlySpan<byte>(body + at, (int)Math.Min(1 << 30, length - at)));
                }
            });
        }
        finally
        {
            NativeMemory.AlignedFree(body);
        }
        return Open(path, vectors);
    }

    /// <summary>
    /// Maps the index at <paramref name="path"/> for searching <paramref name="vectors"/> (see
    /// <see cref="KeyedVectors.OpenIndex"/>, which also attaches it).
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="FileFormatException">Not an index file, another version, truncated, damaged, or built for other
    /// vectors.</exception>
    public static ApproximateIndex Open(string path, KeyedVectors vectors)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no index at {path}; build it with ApproximateIndex.Build", path);
        var file = new MappedFile(path);
        try
        {
            if (file.Length < HeaderBytes || !file.Span(0, Magic.Length).SequenceEqual(Magic))
            {
                throw new FileFormatException(path,
                    "not a TokenSpace index file (expected the magic TSANN); build one with ApproximateIndex.Build", byteOffset: 0);
            }
            var h = file.Span(0, HeaderBytes);
            int version = BinaryPrimitives.ReadInt32LittleEndian(h[8..]);
            if (version != FormatVersion)
            {
                throw new FileFormatException(path,
                    $"index format version {version}, this build reads version {FormatVersion}; rebuild it with ApproximateIndex.Build",
                    byteOffset: 8);
            }
            int dtype = BinaryPrimitives.ReadInt32LittleEndian(h[12..]);
            long count = BinaryPrimitives.ReadInt64LittleEndian(h[16..]);
            int dims = BinaryPrimitives.ReadInt32LittleEndian(h[24..]);
            var options = new ApproximateIndexOptions
            {
                Dtype = Enum.IsDefined((IndexDtype)dtype) ? (IndexDtype)dtype
                    : throw new FileFormatException(path, $"unknown dtype code {dtype}", byteOffset: 12),
                Connectivity = BinaryPrimitives.ReadInt32LittleEndian(h[28..]),
                ExpansionAdd = BinaryPrimitives.ReadInt32LittleEndian(h[32..]),
            };
            int entry = BinaryPrimitives.ReadInt32LittleEndian(h[36..]);
            long length = BinaryPrimitives.ReadInt64LittleEndian(h[56..]);
            if (length != file.Length - HeaderBytes)
            {
                throw new FileFormatException(path,
                    $"header promises {length} bytes of index after byte {HeaderBytes}, the file has {file.Length - HeaderBytes}; is it " +
                    "truncated?", byteOffset: 56);
            }
            if (count != vectors.Count || dims != vectors.Dimensions)
            {
                throw new FileFormatException(path,
                    $"built for {count} × {dims} vectors, these are {vectors.Count} × {vectors.Dimensions}; rebuild it with " +
                    "ApproximateIndex.Build");
            }
            if (!h.Slice(40, 16).SequenceEqual(Fingerprint(vectors)))
            {
                throw new FileFormatException(path,
                    "built for other vectors of the same shape (their keys or values differ); rebuild it with ApproximateIndex.Build",
                    byteOffset: 40);
            }
            if (options.Connectivity < 2 || !h.Slice(64, 16).SequenceEqual(Checksum(file.Address(HeaderBytes), length)))
            {
                throw new FileFormatException(path, "the graph does not match its checksum; is the file damaged? Rebuild it with " +
                    "ApproximateIndex.Build", byteOffset: 64);
            }
            var layout = Layout(options.Dtype, file.Address(HeaderBytes), (int)count, dims, options.Connectivity);
            if (layout.Check(length, entry) is { } problem)
            {
                throw new FileFormatException(path, $"the graph is inconsistent: {problem}", byteOffset: HeaderBytes);
            }
            return new ApproximateIndex(file, Graph(options.Dtype, layout, dims, entry), options, count, dims);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The rows below <paramref name="rowEnd"/> nearest to the unit vector <paramref name="query"/> that the search found, nearest
    /// first by the stored dtype's scores: max(<paramref name="k"/>, <see cref="Expansion"/>) of them, for the caller to re-rank.
    /// </summary>
    internal int[] Search(ReadOnlySpan<float> query, int k, int rowEnd)
    {
        Interlocked.Increment(ref searching);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return graph.Search(query, Math.Max(k, expansion), (int)Math.Min(rowEnd, Count));
        }
        finally
        {
            Interlocked.Decrement(ref searching);
        }
    }

    /// <summary>Unmaps the file once no search runs; idempotent.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        // A full fence: a search either sees disposed or is counted in searching before the wait reads it.
        Interlocked.MemoryBarrier();
        var spin = new SpinWait();
        while (Volatile.Read(ref searching) > 0) spin.SpinOnce();
        file.Dispose();
    }

    static HnswLayout Layout(IndexDtype dtype, byte* body, int count, int dims, int m) => new(body, count, m, dtype switch
    {
        IndexDtype.Float32 => Float32Rows.RowBytes(dims),
        IndexDtype.Float16 => Float16Rows.RowBytes(dims),
        _ => Int8Rows.RowBytes(dims),
    });

    static IHnswGraph Graph(IndexDtype dtype, HnswLayout layout, int dims, int entry) => dtype switch
    {
        IndexDtype.Float32 => new HnswGraph<Float32Rows>(layout, dims, entry),
        IndexDtype.Float16 => new HnswGraph<Float16Rows>(layout, dims, entry),
        _ => new HnswGraph<Int8Rows>(layout, dims, entry),
    };

    /// <summary>XxHash128 of the <paramref name="length"/> bytes at <paramref name="at"/>, in pieces a span can hold.</summary>
    static byte[] Checksum(byte* at, long length)
    {
        var hash = new XxHash128();
        for (long i = 0; i < length; i += 1 << 30) hash.Append(new ReadOnlySpan<byte>(at + i, (int)Math.Min(1 << 30, length - i)));
        return hash.GetCurrentHash();
    }

    static byte[] Header(ApproximateIndexOptions options, long count, int dims, int entry, byte[] fingerprint, long length,
        byte[] checksum)
    {
        var h = new byte[HeaderBytes];
        Magic.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(12), (int)options.Dtype);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(16), count);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(24), dims);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(28), options.Connectivity);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(32), options.ExpansionAdd);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(36), entry);
        fingerprint.CopyTo(h, 40);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(56), length);
        checksum.CopyTo(h, 64);
        return h;
    }

    /// <summary>XxHash128 of every key (UTF-8, each followed by a 0 byte) and then every row as float32.</summary>
    static byte[] Fingerprint(KeyedVectors vectors)
    {
        var hash = new XxHash128();
        var buffer = new byte[256];
        foreach (string key in vectors.Keys)
        {
            int max = Encoding.UTF8.GetMaxByteCount(key.Length) + 1;
            if (max > buffer.Length) buffer = new byte[max];
            int length = Encoding.UTF8.GetBytes(key, buffer);
            buffer[length] = 0;
            hash.Append(buffer.AsSpan(0, length + 1));
        }
        if (vectors.Storage == VectorStorage.Float32)
        {
            hash.Append(MemoryMarshal.AsBytes(vectors.Vectors));
        }
        else
        {
            for (int i = 0; i < vectors.Count; i++) hash.Append(MemoryMarshal.AsBytes(vectors.Row(i)));
        }
        return hash.GetCurrentHash();
    }
}
