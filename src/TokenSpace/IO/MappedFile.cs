using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace TokenSpace.IO;

/// <summary>
/// A whole file mapped read-only into memory. Readers parse it in place, and the native format
/// hands a slice of it to <see cref="Vectors.KeyedVectors"/> as the matrix without copying.
/// </summary>
sealed unsafe class MappedFile : IDisposable
{
    readonly MemoryMappedFile? map;
    readonly MemoryMappedViewAccessor? view;
    readonly byte* pointer;
    bool disposed;

    public MappedFile(string path)
    {
        Path = path;
        using (var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            Length = probe.Length;
        }
        if (Length == 0) return; // an empty file cannot be mapped; readers report it as truncated
        map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        pointer = p + view.PointerOffset;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>The byte at <paramref name="offset"/>.</summary>
    public byte At(long offset) => pointer[offset];

    /// <summary>Bytes [offset, offset + length); the length must fit a span.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length) => new(pointer + offset, length);

    /// <summary>The address of the byte at <paramref name="offset"/>, for native code that reads the mapping in place.</summary>
    public byte* Address(long offset) => pointer + offset;

    /// <summary>Values of <typeparamref name="T"/> (float, or 16-bit patterns) starting at <paramref name="offset"/> as memory owned by
    /// this mapping.</summary>
    public ReadOnlyMemory<T> Elements<T>(long offset, int count) where T : unmanaged =>
        new ElementManager<T>((T*)(pointer + offset), count).Memory;

    /// <summary>Unmaps the file; idempotent (releasing the view's pointer twice would corrupt its handle count).</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (view is not null)
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
        }
        map?.Dispose();
    }

    /// <summary>Lets a <see cref="Memory{T}"/> point into the mapping.</summary>
    sealed class ElementManager<T>(T* start, int count) : MemoryManager<T> where T : unmanaged
    {
        public override Span<T> GetSpan() => new(start, count);

        public override MemoryHandle Pin(int elementIndex = 0) => new(start + elementIndex);

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }
}
