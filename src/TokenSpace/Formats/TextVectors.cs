using System.Buffers.Text;
using System.Globalization;
using System.Text;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// word2vec text, fastText <c>.vec</c> (header <c>count dims</c>) and GloVe (no header): one row per
/// line, <c>key v1 … vD</c> separated by single spaces. Lines are found in one pass over the mapped
/// file and parsed in parallel; the first defect (lowest line) is reported.
/// </summary>
static class TextVectors
{
    /// <summary>Rows per parallel parse unit.</summary>
    const int ChunkRows = 4096;

    public static KeyedVectors Read(MappedFile file, bool hasHeader, VectorsLoadOptions options)
    {
        long pos = BomLength(file);
        long line = 0;
        long? declared = null;
        int dims = 0;
        if (hasHeader)
        {
            if (!NextLine(file, ref pos, out var header)) throw new FileFormatException(file.Path,
                "the file is empty; expected a header 'count dimensions'", line: 1);
            line = 1;
            if (!TryParseHeader(header, out long count, out dims))
            {
                if (IsTwoIntegers(header)) throw new FileFormatException(file.Path, HeaderProblem(header), line: 1);
                throw new FileFormatException(file.Path,
                    $"expected a header 'count dimensions' (two positive integers), found '{Preview(header)}'; is this a GloVe file " +
                        "without header? (read it as VectorFormat.GloVe)", line: 1);
            }
            declared = count;
        }
        long wanted = Math.Min(declared ?? long.MaxValue, options.Limit ?? long.MaxValue);
        long firstRowLine = line + 1;

        // Pass 1: count the rows and note where each unit of ChunkRows rows starts in the file and in the key block
        // (16 bytes a unit, not a row), so that pass 2 writes every key straight into its place.
        var unitStarts = new List<long>();
        var unitKeyStarts = new List<long>();
        long rows = 0, keyBytes = 0;
        while (rows < wanted)
        {
            long start = pos;
            if (!NextLine(file, ref pos, out var text)) break;
            line++;
            if (IsBlank(text))
            {
                if (RestIsBlank(file, pos)) break;
                throw new FileFormatException(file.Path, $"empty line; expected a key and {(dims > 0 ? dims.ToString() : "its")} values",
                    line: line);
            }
            if (rows % ChunkRows == 0)
            {
                unitStarts.Add(start);
                unitKeyStarts.Add(keyBytes);
            }
            keyBytes += KeyDecoder.StoredLength(KeyOf(text), options.Utf8Errors);
            rows++;
            if ((rows & 0xFFFF) == 0) options.Progress?.Invoke(0.2 * pos / file.Length);
        }
        if (rows > int.MaxValue / Math.Max(1, dims)) throw new FileFormatException(file.Path,
            "too many rows to hold in one matrix", line: line);
        if (keyBytes > Array.MaxLength) throw new FileFormatException(file.Path,
            $"the keys take {keyBytes} bytes, more than one array holds", line: line);
        if (declared is { } n && rows < wanted)
        {
            throw new FileFormatException(file.Path,
                $"unexpected end of file after {rows} of {n} rows; is the count in the header wrong, or the file truncated?",
                    line: line + 1);
        }
        if (declared is { } m && options.Limit is null && !RestIsBlank(file, pos))
        {
            throw new FileFormatException(file.Path,
                $"more rows than the {m} the header declares; is the count in the header wrong?", line: line + 1);
        }
        if (!hasHeader)
        {
            if (rows == 0) throw new FileFormatException(file.Path, "no rows; expected lines 'key v1 … vD'", line: 1);
            long firstStart = unitStarts[0];
            NextLine(file, ref firstStart, out var firstRow);
            dims = CountFields(firstRow) - 1;
            if (dims < 1) throw new FileFormatException(file.Path, "expected a key and at least one value on the first line",
                line: firstRowLine);
        }

        // Pass 2: parse rows in parallel, a unit's lines in order; each unit remembers its first error.
        var keyBlock = new byte[keyBytes];
        var ends = new int[rows];
        var matrix = new float[rows * dims];
        int units = unitStarts.Count;
        var errors = new FileFormatException?[units];
        int done = 0;
        Threads.For(units, u =>
        {
            int end = (int)Math.Min(rows, (u + 1L) * ChunkRows);
            long pos = unitStarts[u];
            int at = (int)unitKeyStarts[u];
            for (int r = u * ChunkRows; r < end; r++)
            {
                long start = pos;
                NextLine(file, ref pos, out var text);
                var error = ParseRow(text, dims, hasHeader, matrix.AsSpan(r * dims, dims), out var key);
                long lineNo = firstRowLine + r;
                if (error is null)
                {
                    try
                    {
                        var stored = KeyDecoder.Utf8(key, options.Utf8Errors, file.Path, lineNo, start);
                        stored.CopyTo(keyBlock.AsSpan(at));
                        ends[r] = at += stored.Length;
                    }
                    catch (FileFormatException e)
                    {
                        errors[u] = e;
                        return;
                    }
                    continue;
                }
                errors[u] = new FileFormatException(file.Path, error, line: lineNo);
                return;
            }
            int total = Interlocked.Add(ref done, end - u * ChunkRows);
            options.Progress?.Invoke(0.2 + 0.8 * total / rows);
        });
        if (errors.FirstOrDefault(e => e is not null) is { } first) throw first;
        var keys = new KeyTable(keyBlock, ends, KeyDecoder.Duplicate(file.Path, r => (firstRowLine + r, null)));
        return new KeyedVectors(keys, matrix, dims, owner: null);
    }

    /// <summary>Parses one row into <paramref name="values"/>; returns the defect, or null.</summary>
    static string? ParseRow(ReadOnlySpan<byte> text, int dims, bool hasHeader, Span<float> values, out ReadOnlySpan<byte> key)
    {
        text = text.TrimEnd(" \t\r"u8);
        int space = text.IndexOf((byte)' ');
        key = KeyOf(text);
        if (space <= 0) return $"expected a key and {dims} values separated by spaces, found '{Preview(text)}'";
        var rest = text[(space + 1)..];
        int found = 0;
        while (true)
        {
            int next = rest.IndexOf((byte)' ');
            var field = next < 0 ? rest : rest[..next];
            if (found < dims)
            {
                if (!Utf8Parser.TryParse(field, out float v, out int used) || used != field.Length)
                {
                    if (field.IsEmpty) return $"empty value {found + 1} (two spaces in a row?); expected {dims} values separated by " +
                        "single spaces";
                    if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out v))
                    {
                        if (IsPythonNonFinite(field)) return $"value {found + 1} is '{Preview(field)}'; NaN and infinity are not allowed " +
                            "(a diverged training run?)";
                        return $"value {found + 1} '{Preview(field)}' is not a number; does the key contain a space?";
                    }
                }
                if (!float.IsFinite(v)) return $"value {found + 1} is '{Preview(field)}'; NaN and infinity are not allowed (a diverged " +
                    "training run?)";
                values[found] = v;
            }
            found++;
            if (next < 0) break;
            rest = rest[(next + 1)..];
        }
        if (found == dims) return null;
        string guess = hasHeader ? "is the dimension in the header wrong" : "do rows have different lengths, or does a key contain a space";
        return $"expected {dims} values after the key, found {found}; {guess}?";
    }

    /// <summary>The key of a row: its bytes up to the first space (all of them when there is none, a defect
    /// <see cref="ParseRow"/> reports).</summary>
    static ReadOnlySpan<byte> KeyOf(ReadOnlySpan<byte> text)
    {
        text = text.TrimEnd(" \t\r"u8);
        int space = text.IndexOf((byte)' ');
        return space < 0 ? text : text[..space];
    }

    /// <summary>nan, inf, infinity with optional sign, any case: what Python writes for non-finite floats.</summary>
    static bool IsPythonNonFinite(ReadOnlySpan<byte> field)
    {
        var t = field.TrimStart("+-"u8);
        return Ascii.EqualsIgnoreCase(t, "nan"u8) || Ascii.EqualsIgnoreCase(t, "inf"u8) || Ascii.EqualsIgnoreCase(t, "infinity"u8);
    }

    /// <summary>3 when the file starts with a UTF-8 byte order mark (which Windows editors write), else 0: text is read after it.</summary>
    public static int BomLength(MappedFile file) => file.Length >= 3 && file.Span(0, 3).SequenceEqual(Encoding.UTF8.Preamble) ? 3 : 0;

    /// <summary>True when <paramref name="line"/> is <c>count dims</c>: two non-negative integers (dims ≥ 1).</summary>
    public static bool TryParseHeader(ReadOnlySpan<byte> line, out long count, out int dims)
    {
        count = 0;
        dims = 0;
        line = line.Trim(" \t\r"u8);
        int space = line.IndexOfAny(" \t"u8);
        if (space < 0) return false;
        var second = line[(space + 1)..].TrimStart(" \t"u8);
        return Utf8Parser.TryParse(line[..space], out count, out int a) && a == space && count >= 0
            && Utf8Parser.TryParse(second, out dims, out int b) && b == second.Length && dims >= 1;
    }

    /// <summary>True when <paramref name="line"/> is two whitespace-separated runs of ASCII digits (a header, valid or not).</summary>
    public static bool IsTwoIntegers(ReadOnlySpan<byte> line)
    {
        var fields = Encoding.ASCII.GetString(line.Trim(" \t\r"u8)).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return fields.Length == 2 && fields.All(f => f.All(char.IsAsciiDigit));
    }

    /// <summary>What is wrong with a header of two integers that <see cref="TryParseHeader"/> refused.</summary>
    static string HeaderProblem(ReadOnlySpan<byte> line)
    {
        var fields = Encoding.ASCII.GetString(line.Trim(" \t\r"u8)).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        string count = fields[0].TrimStart('0'), dims = fields[1].TrimStart('0');
        if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            return $"header says {(count.Length == 0 ? "0" : count)} rows, more than a file can hold";
        return $"header says {(dims.Length == 0 ? "0" : dims)} dimensions; expected 1 to {int.MaxValue}";
    }

    /// <summary>True when <paramref name="bytes"/> hold a byte below 0x20 other than tab, newline and carriage return (or DEL): not
    /// text.</summary>
    public static bool HasControlBytes(ReadOnlySpan<byte> bytes) =>
        bytes.IndexOfAnyInRange((byte)0, (byte)8) >= 0 || bytes.IndexOfAny((byte)11, (byte)12, (byte)127) >= 0
            || bytes.IndexOfAnyInRange((byte)14, (byte)31) >= 0;

    /// <summary>True when the first line of <paramref name="bytes"/> is a key and exactly <paramref name="dims"/> numbers separated by
    /// spaces.</summary>
    public static bool IsTextRow(ReadOnlySpan<byte> bytes, int dims)
    {
        int nl = bytes.IndexOf((byte)'\n');
        if (nl < 0) return false;
        var rest = bytes[..nl].TrimEnd(" \t\r"u8);
        int space = rest.IndexOf((byte)' ');
        if (space <= 0) return false;
        rest = rest[(space + 1)..];
        for (int found = 1; ; found++)
        {
            int next = rest.IndexOf((byte)' ');
            var field = next < 0 ? rest : rest[..next];
            if (!IsNumber(field)) return false;
            if (next < 0) return found == dims;
            rest = rest[(next + 1)..];
        }
    }

    static bool IsNumber(ReadOnlySpan<byte> field) =>
        (Utf8Parser.TryParse(field, out float _, out int used) && used == field.Length)
            || float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || IsPythonNonFinite(field);

    /// <summary>Writes word2vec text (with header) or GloVe (without), values in shortest round-trip form.</summary>
    public static void Write(KeyedVectors vectors, string path, bool header)
    {
        CheckKeys(vectors, "text");
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 20, leaveOpen: true) { NewLine = "\n" };
            if (header) writer.WriteLine($"{vectors.Count} {vectors.Dimensions}");
            Span<char> number = stackalloc char[32];
            for (int i = 0; i < vectors.Count; i++)
            {
                writer.Write(vectors.Keys[i]);
                foreach (float v in vectors.Row(i))
                {
                    writer.Write(' ');
                    v.TryFormat(number, out int written, "R", CultureInfo.InvariantCulture);
                    writer.Write(number[..written]);
                }
                writer.Write('\n');
            }
        });
    }

    /// <summary>Text and binary word2vec cannot hold keys with whitespace (the separator) or empty keys.</summary>
    public static void CheckKeys(KeyedVectors vectors, string what)
    {
        foreach (string key in vectors.Keys)
        {
            if (key.Length == 0 || key.AsSpan().IndexOfAny(" \t\n\r") >= 0)
            {
                throw new ArgumentException($"key '{key}' is empty or contains whitespace, which the {what} format uses as separator; " +
                    "use " +
                    "the native format instead");
            }
        }
    }

    static int CountFields(ReadOnlySpan<byte> text) => text.TrimEnd(" \t\r"u8).Count((byte)' ') + 1;

    static bool NextLine(MappedFile file, ref long pos, out ReadOnlySpan<byte> line)
    {
        if (pos >= file.Length)
        {
            line = default;
            return false;
        }
        int window = (int)Math.Min(file.Length - pos, int.MaxValue);
        var span = file.Span(pos, window);
        int nl = span.IndexOf((byte)'\n');
        line = nl < 0 ? span : span[..nl];
        pos += nl < 0 ? span.Length : nl + 1;
        return true;
    }

    static bool IsBlank(ReadOnlySpan<byte> text) => text.Trim(" \t\r"u8).IsEmpty;

    static bool RestIsBlank(MappedFile file, long pos)
    {
        for (long p = pos; p < file.Length; p += int.MaxValue)
        {
            if (file.Span(p, (int)Math.Min(file.Length - p, int.MaxValue)).IndexOfAnyExcept(" \t\r\n"u8) >= 0) return false;
        }
        return true;
    }

    /// <summary>At most 40 characters of the bytes, for messages.</summary>
    internal static string Preview(ReadOnlySpan<byte> bytes)
    {
        string s = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 40)]);
        return bytes.Length > 40 ? s + "…" : s;
    }
}
