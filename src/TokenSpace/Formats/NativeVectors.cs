using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// TokenSpace's native vectors file (<c>.tsvec</c>), made to load by memory mapping: the matrix is
/// used in place, never parsed or copied. All integers little-endian.
/// <code>
/// offset  size  field
///      0     8  magic "TSVEC\0\0\x01"
///      8     4  dtype: 1 = float32
///     12     4  reserved, 0
///     16     8  count (rows)
///     24     8  dims
///     32     8  keys offset (= 64): int64 ends[count] (cumulative byte ends), then the UTF-8 keys back to back
///     40     8  keys length in bytes
///     48     8  matrix offset, a multiple of 64 (count × dims float32, row-major)
///     56     8  total file length (catches truncation at once)
/// </code>
/// Writing checks that every value is finite and every key unique. Loading checks the header with
/// bounded arithmetic, every key's extent and, in one vectorised pass over the mapped matrix, that
/// every value is finite; it builds the key → row map only on the first lookup (a repeated key in a
/// damaged file throws <see cref="FileFormatException"/> there).
/// </summary>
public static class NativeVectors
{
    /// <summary>The first 8 bytes of every native file.</summary>
    public static ReadOnlySpan<byte> Magic => "TSVEC\0\0\x01"u8;

    const int HeaderBytes = 64;
    const int Float32 = 1;

    /// <summary>Keys longer than this mean a damaged key table (every key is one token or word).</summary>
    const int MaxKeyBytes = 1 << 20;

    internal static KeyedVectors Read(MappedFile file, VectorsLoadOptions options, out bool keepMapped)
    {
        keepMapped = false;
        if (file.Length < HeaderBytes) throw Bad(file,
            $"the file is {file.Length} bytes, shorter than the {HeaderBytes}-byte header; truncated?", file.Length);
        var h = file.Span(0, HeaderBytes);
        if (!h.StartsWith(Magic)) throw Bad(file, "expected the native magic 'TSVEC'", 0);
        int dtype = BinaryPrimitives.ReadInt32LittleEndian(h[8..]);
        long count = BinaryPrimitives.ReadInt64LittleEndian(h[16..]);
        long dims = BinaryPrimitives.ReadInt64LittleEndian(h[24..]);
        long keysOffset = BinaryPrimitives.ReadInt64LittleEndian(h[32..]);
        long keysLength = BinaryPrimitives.ReadInt64LittleEndian(h[40..]);
        long matrixOffset = BinaryPrimitives.ReadInt64LittleEndian(h[48..]);
        long total = BinaryPrimitives.ReadInt64LittleEndian(h[56..]);
        if (dtype != Float32) throw Bad(file, $"dtype {dtype} is not supported; expected 1 (float32)", 8);
        // Every bound below is compared without overflow (each product is bounded first), so for any
        // header the reads that follow stay inside the mapping.
        if (count < 0 || dims < 1 || dims > int.MaxValue || count > int.MaxValue / dims) throw Bad(file,
            $"shape {count} × {dims} is not a valid matrix", 16);
        if (total != file.Length) throw Bad(file,
            $"the header says the file has {total} bytes, found {file.Length}; truncated or appended to?",
            Math.Min(Math.Max(total, 0), file.Length));
        long matrixBytes = count * dims * sizeof(float);
        if (keysOffset != HeaderBytes || keysLength < 8 * count || keysLength > file.Length - keysOffset || matrixOffset % 64 != 0
            || matrixOffset < keysOffset + keysLength || matrixOffset > file.Length || file.Length - matrixOffset != matrixBytes)
        {
            throw Bad(file, "the section offsets in the header are inconsistent; the file is damaged", 32);
        }

        int rows = (int)Math.Min(count, options.Limit ?? long.MaxValue);
        long blob = keysOffset + 8 * count;
        long blobLength = keysLength - 8 * count;
        // Strict UTF-8 (the default) stores the key bytes as they are: the block is the first rows' share of the key section.
        long firstRowsBytes = rows == 0 ? 0 : Math.Clamp(End(file, keysOffset, rows - 1), 0, blobLength);
        var keys = new KeyTable.Builder(rows, firstRowsBytes);
        long previous = 0;
        for (int r = 0; r < rows; r++)
        {
            long end = End(file, keysOffset, r);
            if (end < previous || end > blobLength || end - previous > MaxKeyBytes)
            {
                throw Bad(file, $"key {r + 1} spans [{previous}, {end}), outside the {blobLength}-byte key section; the file is damaged",
                    keysOffset + 8L * r);
            }
            keys.Add(KeyDecoder.Utf8(file.Span(blob + previous, (int)(end - previous)), options.Utf8Errors, file.Path, null,
                blob + previous));
            previous = end;
        }
        // The writer never stores a key twice, so the key → row table (the costliest part of a load) is built on
        // first lookup; a damaged file with a repeated key throws then.
        var table = keys.Build(KeyDecoder.Duplicate(file.Path, r => (null, keysOffset + 8L * r)));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the native format maps little-endian floats; this " +
            "machine is big-endian");
        var matrix = file.Elements<float>(matrixOffset, (int)(rows * dims));
        int bad = NonFinite.IndexOfParallel(matrix);
        if (bad >= 0)
        {
            throw Bad(file, $"value {bad % dims + 1} of row {bad / dims + 1} ('{table[(int)(bad / dims)]}') is not finite; " +
                "NaN and infinity are not allowed (a damaged file?)",
                matrixOffset + (long)bad * sizeof(float));
        }
        keepMapped = true;
        return new KeyedVectors(table, matrix, (int)dims, owner: file);
    }

    /// <summary>Writes the native file atomically.</summary>
    /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
    public static void Write(KeyedVectors vectors, string path)
    {
        int bad = NonFinite.IndexOf(vectors.Vectors);
        if (bad >= 0) throw new ArgumentException($"row {bad / vectors.Dimensions} ('{vectors.Keys[bad / vectors.Dimensions]}') holds a " +
            "NaN or infinite value; refusing to write it");
        var keyBytes = vectors.Keys.Select(Encoding.UTF8.GetBytes).ToArray();
        long count = vectors.Count;
        long keysLength = 8 * count + keyBytes.Sum(k => (long)k.Length);
        long matrixOffset = (HeaderBytes + keysLength + 63) / 64 * 64;
        long total = matrixOffset + count * vectors.Dimensions * sizeof(float);
        AtomicFile.Write(path, stream =>
        {
            var header = new byte[HeaderBytes];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), Float32);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), count);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(24), vectors.Dimensions);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(32), HeaderBytes);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(40), keysLength);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(48), matrixOffset);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(56), total);
            stream.Write(header);
            var ends = new byte[8 * count];
            long end = 0;
            for (int r = 0; r < count; r++)
            {
                end += keyBytes[r].Length;
                BinaryPrimitives.WriteInt64LittleEndian(ends.AsSpan(8 * r), end);
            }
            stream.Write(ends);
            foreach (var k in keyBytes) stream.Write(k);
            stream.Write(new byte[matrixOffset - HeaderBytes - keysLength]);
            stream.Write(MemoryMarshal.AsBytes(vectors.Vectors));
        });
    }

    /// <summary>The end of key <paramref name="row"/> within the key bytes (cumulative, little-endian int64).</summary>
    static long End(MappedFile file, long keysOffset, int row) =>
        BinaryPrimitives.ReadInt64LittleEndian(file.Span(keysOffset + 8L * row, 8));

    static FileFormatException Bad(MappedFile file, string cause, long offset) => new(file.Path, cause, byteOffset: offset);
}
