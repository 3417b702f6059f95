using System.Buffers;
using System.Text;
using TokenSpace.Vectors;
using TokenSpace.IO;

namespace TokenSpace.Formats;

/// <summary>Checks key bytes (or turns them into strings) and makes the located error for a key that repeats.</summary>
static class KeyDecoder
{
    /// <summary>
    /// The UTF-8 to store for key bytes: the bytes themselves when valid; under <see cref="Utf8Errors.Replace"/> each invalid
    /// sequence becomes U+FFFD; under <see cref="Utf8Errors.Strict"/> an invalid sequence throws with the byte offset of the
    /// first bad byte (<paramref name="byteOffset"/> is where the key starts) or the line.
    /// </summary>
    public static ReadOnlySpan<byte> Utf8(ReadOnlySpan<byte> bytes, Utf8Errors errors, string path, long? line, long byteOffset)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return bytes;
        if (errors == Utf8Errors.Replace) return Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes));
        Span<char> scratch = stackalloc char[256];
        int bad = 0;
        var rest = bytes;
        while (true)
        {
            var status = System.Text.Unicode.Utf8.ToUtf16(rest, scratch, out int read, out _, replaceInvalidSequences: false);
            bad += read;
            rest = rest[read..];
            if (status != OperationStatus.DestinationTooSmall) break;
        }
        string cause = $"invalid UTF-8 byte 0x{bytes[bad]:X2} in a key; is the file in another encoding (latin-1?) — load with " +
            "encoding errors 'replace' to read it anyway";
        throw line is { } l
            ? new FileFormatException(path, cause, line: l)
            : new FileFormatException(path, cause, byteOffset: byteOffset + bad);
    }

    /// <summary>How many bytes <see cref="Utf8"/> stores for <paramref name="bytes"/> (when it does not throw).</summary>
    public static int StoredLength(ReadOnlySpan<byte> bytes, Utf8Errors errors) =>
        errors == Utf8Errors.Strict || System.Text.Unicode.Utf8.IsValid(bytes) ? bytes.Length
            : Encoding.UTF8.GetByteCount(Encoding.UTF8.GetString(bytes));

    /// <summary>The key as a string (see <see cref="Utf8"/>).</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, Utf8Errors errors, string path, long? line, long byteOffset) =>
        Encoding.UTF8.GetString(Utf8(bytes, errors, path, line, byteOffset));

    /// <summary>The table of <paramref name="keys"/>, refusing a repeat as <see cref="Duplicate"/> does.</summary>
    public static KeyTable Table(IReadOnlyList<string> keys, string path, Func<int, (long? Line, long? Byte)> where) =>
        KeyTable.FromStrings(keys, Duplicate(path, where));

    /// <summary>The error for a key that repeats, at its second occurrence; <paramref name="where"/> describes a row's location for the
    /// message.</summary>
    public static Func<string, int, int, Exception> Duplicate(string path, Func<int, (long? Line, long? Byte)> where) =>
        (key, firstRow, row) =>
        {
            var (firstLine, firstByte) = where(firstRow);
            var (line, offset) = where(row);
            string first = firstLine is { } fl ? $"line {fl}" : $"byte {firstByte}";
            return new FileFormatException(path,
                $"duplicate key '{key}' (first at {first}); keys must be unique — are two files concatenated, or did 'replace' " +
                    "decoding merge two keys?",
                line, offset);
        };
}
