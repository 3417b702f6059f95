using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using TokenSpace.IO;
using TokenSpace.Tensors;

namespace TokenSpace.Vectors;

/// <summary>How an <see cref="ApproximateIndex"/> stores the vectors its graph links (USearch's quantisation).</summary>
public enum IndexDtype
{
    /// <summary>4 bytes per value: the graph's distances are the exact float32 cosines.</summary>
    Float32,

    /// <summary>2 bytes per value: half the index's size, distances nearly exact.</summary>
    Float16,

    /// <summary>1 byte per value (unit rows scaled to ±127): a quarter of the size, coarser distances.</summary>
    Int8,
}

/// <summary>The build settings of an <see cref="ApproximateIndex"/> (HNSW's M and efConstruction, the stored dtype).</summary>
public sealed record ApproximateIndexOptions
{
    /// <summary>HNSW's M: links per node on the upper layers (twice as many on the bottom one). USearch's default.</summary>
    public int Connectivity { get; init; } = 16;

    /// <summary>HNSW's efConstruction: candidates kept while linking a new node. USearch's default.</summary>
    public int ExpansionAdd { get; init; } = 128;

    /// <summary>How the index stores the vectors.</summary>
    public IndexDtype Dtype { get; init; } = IndexDtype.Float32;
}

/// <summary>
/// An approximate nearest-neighbour index (an HNSW graph built by USearch) over the unit rows of one
/// <see cref="KeyedVectors"/>, kept in a file beside the vectors. Row numbers are the graph's keys.
/// <para>
/// File layout (version 1, little-endian): the 8-byte magic <c>TSANN\0\0\1</c>, then
/// <c>int32 version, int32 dtype, int64 count, int32 dimensions, int32 connectivity, int32 expansion_add,
/// int32 0, 16 bytes XxHash128 of the keys and float32 rows, int64 length</c> of the USearch index that
/// follows at byte 64. Opening maps the file and lets USearch search it in place (a view, not a copy),
/// after checking that count, dimensions and hash match the vectors it is opened for.
/// </para>
/// <para>
/// Searches return rows only; their scores are then computed exactly from the float32 unit rows, so an
/// approximate answer differs from the exact one only in which rows it found, never in their scores.
/// A build on one thread adds the rows in order and is byte-identical every time (USearch draws node
/// levels from a fixed-seed generator); on more threads the order the rows are linked in varies, and so
/// does the graph.
/// </para>
/// </summary>
public sealed unsafe class ApproximateIndex : IDisposable
{
    /// <summary>The version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    const int HeaderBytes = 64;

    static ReadOnlySpan<byte> Magic => "TSANN\0\0\u0001"u8;

    readonly MappedFile file;
    readonly nint native;
    readonly SemaphoreSlim slots;
    int expansion = 64;
    bool disposed;

    ApproximateIndex(MappedFile file, nint native, int slotCount, ApproximateIndexOptions options, long count, int dims)
    {
        this.file = file;
        this.native = native;
        slots = new SemaphoreSlim(slotCount, slotCount);
        Options = options;
        Count = count;
        Dimensions = dims;
        USearchNative.SetExpansion(native, expansion);
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
            // USearch keeps one setting for the whole index: wait until no search runs.
            for (int i = 0; i < SlotCount; i++) slots.Wait();
            try
            {
                USearchNative.SetExpansion(native, value);
                expansion = value;
            }
            finally
            {
                slots.Release(SlotCount);
            }
        }
    }

    /// <summary>The SIMD kernels USearch measures distances with on this machine (e.g. "skylake"; "serial" when none).</summary>
    public string HardwareAcceleration => USearchNative.Acceleration(native);

    /// <summary>The version of the USearch library in use.</summary>
    public static string LibraryVersion => USearchNative.Version();

    /// <summary>Where the index of the vectors at <paramref name="vectorsPath"/> lives by default: beside them, with ".ann"
    /// appended.</summary>
    public static string PathBeside(string vectorsPath) => Path.TrimEndingDirectorySeparator(vectorsPath) + ".ann";

    /// <summary>Searches allowed at once: at least one per thread of the machine, more for a server's request threads.</summary>
    static int SlotCount => Math.Max(64, 4 * Environment.ProcessorCount);

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
        int n = vectors.Count, d = vectors.Dimensions;
        nint native = Create(options, d);
        try
        {
            // Every thread that adds holds one of USearch's per-thread contexts; with too few the add fails.
            USearchNative.Reserve(native, n, Math.Max(SlotCount, Threads.Count));
            var unit = vectors.UnitMemory;
            // Small units in row order; on one thread they run in order, which makes the build reproducible.
            int units = (n + 255) / 256, done = 0;
            Threads.For(units, u =>
            {
                var span = unit.Span;
                for (int i = u * 256; i < Math.Min(n, (u + 1) * 256); i++) USearchNative.Add(native, (ulong)i, span.Slice(i * d, d));
                progress?.Invoke((double)Interlocked.Increment(ref done) / units);
            });
            byte[] blob = USearchNative.Save(native);
            var header = Header(options, n, d, Fingerprint(vectors), blob.LongLength);
            AtomicFile.Write(path, s =>
            {
                s.Write(header);
                s.Write(blob);
            });
        }
        finally
        {
            USearchNative.Release(native);
        }
        return Open(path, vectors);
    }

    /// <summary>
    /// Maps the index at <paramref name="path"/> for searching <paramref name="vectors"/> (see
    /// <see cref="KeyedVectors.OpenIndex"/>, which also attaches it).
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="FileFormatException">Not an index file, another version, truncated, or built for other vectors.</exception>
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
            nint native = Create(options, dims);
            try
            {
                USearchNative.View(native, file.Address(HeaderBytes), length);
                if (USearchNative.Size(native) != count)
                {
                    throw new FileFormatException(path,
                        $"the USearch index holds {USearchNative.Size(native)} vectors, the header says {count}", byteOffset: HeaderBytes);
                }
                USearchNative.SetSearchThreads(native, SlotCount);
            }
            catch
            {
                USearchNative.Release(native);
                throw;
            }
            return new ApproximateIndex(file, native, SlotCount, options, count, dims);
        }
        catch (InvalidOperationException e)
        {
            file.Dispose();
            throw new FileFormatException(path, $"unreadable index ({e.Message})", byteOffset: HeaderBytes, inner: e);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Up to <paramref name="k"/> rows below <paramref name="rowEnd"/> nearest to the unit vector <paramref name="query"/>,
    /// nearest first.</summary>
    internal int[] Search(ReadOnlySpan<float> query, int k, int rowEnd)
    {
        Span<ulong> keys = k <= 256 ? stackalloc ulong[k] : new ulong[k];
        Span<float> distances = k <= 256 ? stackalloc float[k] : new float[k];
        int found;
        slots.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            found = USearchNative.Search(native, query, keys, distances, rowEnd < Count ? rowEnd : null);
        }
        finally
        {
            slots.Release();
        }
        var rows = new int[found];
        for (int i = 0; i < found; i++) rows[i] = (int)keys[i];
        return rows;
    }

    /// <summary>Frees the graph and unmaps the file, once no search runs; idempotent.</summary>
    public void Dispose()
    {
        if (disposed) return;
        for (int i = 0; i < SlotCount; i++) slots.Wait();
        disposed = true;
        USearchNative.Release(native);
        file.Dispose();
        slots.Release(SlotCount);
    }

    static nint Create(ApproximateIndexOptions options, int dims) => USearchNative.Create(new USearchNative.InitOptions
    {
        // The rows are unit vectors, so 1 − a·b is the cosine distance at a third of the work; USearch's int8
        // codes are scaled per vector, which only its cosine metric undoes.
        MetricKind = options.Dtype == IndexDtype.Int8 ? USearchNative.MetricCos : USearchNative.MetricInnerProduct,
        Quantization = options.Dtype switch
        {
            IndexDtype.Float32 => 1,
            IndexDtype.Float16 => 3,
            _ => 4,
        },
        Dimensions = (nuint)dims,
        Connectivity = (nuint)options.Connectivity,
        ExpansionAdd = (nuint)options.ExpansionAdd,
        ExpansionSearch = 64,
    });

    static byte[] Header(ApproximateIndexOptions options, long count, int dims, byte[] fingerprint, long length)
    {
        var h = new byte[HeaderBytes];
        Magic.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(12), (int)options.Dtype);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(16), count);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(24), dims);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(28), options.Connectivity);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(32), options.ExpansionAdd);
        fingerprint.CopyTo(h, 40);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(56), length);
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
