using System.Buffers;
using System.Text;
using System.Text.Unicode;
using TokenSpace.IO;

namespace TokenSpace.Formats;

/// <summary>Turns key bytes into strings and the keys of a file into the key → row map, reporting bad bytes and repeats where they
/// are.</summary>
static class KeyDecoder
{
    /// <summary>
    /// Decodes UTF-8 key bytes; under <see cref="Utf8Errors.Strict"/> an invalid sequence throws with
    /// the byte offset of the first bad byte (<paramref name="byteOffset"/> is where the key starts)
    /// or the line.
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> bytes, Utf8Errors errors, string path, long? line, long byteOffset)
    {
        if (errors == Utf8Errors.Strict && !Utf8.IsValid(bytes))
        {
            Span<char> scratch = stackalloc char[256];
            int bad = 0;
            var rest = bytes;
            while (true)
            {
                var status = Utf8.ToUtf16(rest, scratch, out int read, out _, replaceInvalidSequences: false);
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
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Builds key → row, throwing at the second occurrence of a key; <paramref name="where"/> describes a row's location for the
    /// message.</summary>
    public static Dictionary<string, int> Index(string[] keys, string path, Func<int, (long? Line, long? Byte)> where)
    {
        var index = new Dictionary<string, int>(keys.Length, StringComparer.Ordinal);
        for (int i = 0; i < keys.Length; i++)
        {
            if (index.TryAdd(keys[i], i)) continue;
            var (firstLine, firstByte) = where(index[keys[i]]);
            var (line, offset) = where(i);
            string first = firstLine is { } fl ? $"line {fl}" : $"byte {firstByte}";
            throw new FileFormatException(path,
                $"duplicate key '{keys[i]}' (first at {first}); keys must be unique — are two files concatenated, or did 'replace' " +
                    "decoding merge two keys?",
                line, offset);
        }
        return index;
    }
}
