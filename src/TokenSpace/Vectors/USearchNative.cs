using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TokenSpace.Vectors;

/// <summary>
/// The C API of USearch (<c>c/usearch.h</c>) in the native library the Cloud.Unum.USearch package ships.
/// Its managed wrapper has no concurrent add, no per-thread limits, no view of a buffer inside a larger
/// mapped file and no filtered search, which the index here needs; so it calls the same library directly.
/// Every function reports failure through its last argument, a C string owned by the library.
/// </summary>
static unsafe partial class USearchNative
{
    const string Library = "libusearch_c";

    /// <summary><c>usearch_metric_cos_k</c>.</summary>
    public const int MetricCos = 1;

    /// <summary><c>usearch_metric_ip_k</c>: 1 − a·b.</summary>
    public const int MetricInnerProduct = 2;

    /// <summary><c>usearch_scalar_f32_k</c>, the kind of every vector handed to the library.</summary>
    public const int ScalarF32 = 1;

    /// <summary><c>usearch_init_options_t</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct InitOptions
    {
        public int MetricKind;
        public nint Metric;
        public int Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi;
    }

    [LibraryImport(Library, EntryPoint = "usearch_version")]
    private static partial nint VersionPointer();

    [LibraryImport(Library, EntryPoint = "usearch_hardware_acceleration")]
    private static partial nint AccelerationPointer(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_init")]
    private static partial nint Init(InitOptions* options, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_free")]
    private static partial void Free(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_reserve")]
    private static partial void Reserve(nint index, nuint capacity, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_threads_add")]
    private static partial void ThreadsAdd(nint index, nuint threads, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_threads_search")]
    private static partial void ThreadsSearch(nint index, nuint threads, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_expansion_search")]
    private static partial void ExpansionSearch(nint index, nuint expansion, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_add")]
    private static partial void Add(nint index, ulong key, float* vector, int kind, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_size")]
    private static partial nuint Size(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_serialized_length")]
    private static partial nuint SerializedLength(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_save_buffer")]
    private static partial void SaveBuffer(nint index, byte* buffer, nuint length, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_view_buffer")]
    private static partial void ViewBuffer(nint index, byte* buffer, nuint length, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_search")]
    private static partial nuint Search(nint index, float* query, int kind, nuint count, ulong* keys, float* distances, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_filtered_search")]
    private static partial nuint FilteredSearch(nint index, float* query, int kind, nuint count,
        delegate* unmanaged[Cdecl]<ulong, void*, int> filter, void* state, ulong* keys, float* distances, out nint error);

    /// <summary>The library's version, e.g. "2.26.6".</summary>
    public static string Version() => Marshal.PtrToStringUTF8(VersionPointer()) ?? "";

    /// <summary>The SIMD kernels the index's metric runs on, e.g. "skylake".</summary>
    public static string Acceleration(nint index)
    {
        nint p = AccelerationPointer(index, out nint error);
        Check(error);
        return Marshal.PtrToStringUTF8(p) ?? "";
    }

    /// <summary>A new empty index; free it with <see cref="Release"/>.</summary>
    public static nint Create(InitOptions options)
    {
        nint index = Init(&options, out nint error);
        Check(error);
        return index;
    }

    public static void Release(nint index)
    {
        Free(index, out nint error);
        Check(error);
    }

    /// <summary>Room for <paramref name="capacity"/> vectors added by up to <paramref name="threads"/> threads at once.</summary>
    public static void Reserve(nint index, long capacity, int threads)
    {
        Reserve(index, (nuint)capacity, out nint error);
        Check(error);
        ThreadsAdd(index, (nuint)threads, out error);
        Check(error);
    }

    /// <summary>Allows up to <paramref name="threads"/> searches at once.</summary>
    public static void SetSearchThreads(nint index, int threads)
    {
        ThreadsSearch(index, (nuint)threads, out nint error);
        Check(error);
    }

    public static void SetExpansion(nint index, int expansion)
    {
        ExpansionSearch(index, (nuint)expansion, out nint error);
        Check(error);
    }

    public static void Add(nint index, ulong key, ReadOnlySpan<float> vector)
    {
        nint error;
        fixed (float* v = vector) Add(index, key, v, ScalarF32, out error);
        Check(error);
    }

    public static long Size(nint index)
    {
        nuint n = Size(index, out nint error);
        Check(error);
        return (long)n;
    }

    /// <summary>The serialised index (graph and stored vectors) as bytes.</summary>
    public static byte[] Save(nint index)
    {
        nuint length = SerializedLength(index, out nint error);
        Check(error);
        var bytes = new byte[(long)length];
        fixed (byte* b = bytes) SaveBuffer(index, b, length, out error);
        Check(error);
        return bytes;
    }

    /// <summary>Points <paramref name="index"/> at a serialised index in memory that must outlive it (no copy).</summary>
    public static void View(nint index, byte* buffer, long length)
    {
        ViewBuffer(index, buffer, (nuint)length, out nint error);
        Check(error);
    }

    /// <summary>
    /// Up to keys.Length nearest keys of <paramref name="query"/>, with cosine distances; only keys below
    /// <paramref name="keyEnd"/> when it is given. Returns how many were found.
    /// </summary>
    public static int Search(nint index, ReadOnlySpan<float> query, Span<ulong> keys, Span<float> distances, long? keyEnd)
    {
        nint error;
        nuint found;
        fixed (float* q = query)
        fixed (ulong* k = keys)
        fixed (float* d = distances)
        {
            found = keyEnd is { } end
                ? FilteredSearch(index, q, ScalarF32, (nuint)keys.Length, &Below, (void*)end, k, d, out error)
                : Search(index, q, ScalarF32, (nuint)keys.Length, k, d, out error);
        }
        Check(error);
        return (int)found;
    }

    /// <summary>The filter of a restricted search: keys (rows) below the end passed as the state pointer.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static int Below(ulong key, void* state) => key < (ulong)state ? 1 : 0;

    static void Check(nint error)
    {
        if (error != 0) throw new InvalidOperationException($"USearch: {Marshal.PtrToStringUTF8(error)}");
    }
}
