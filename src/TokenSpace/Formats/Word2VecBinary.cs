using System.Runtime.InteropServices;
using System.Text;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// word2vec's C binary format: a text header <c>count dims\n</c>, then for each row the key in
/// UTF-8, one space, and dims little-endian float32. The C tool writes a newline after each row;
/// gensim does not; both are read (newlines before a key are skipped, as gensim does).
/// </summary>
static class Word2VecBinary
{
    /// <summary>Keys longer than this mean the file is not what the header says.</summary>
    const int MaxKeyBytes = 100_000;

    /// <summary>The reader notes where one row in this many starts, for the message about a repeated key.</summary>
    const int OffsetEvery = 1024;

    public static KeyedVectors Read(MappedFile file, VectorsLoadOptions options)
    {
        long pos = TextVectors.BomLength(file);
        var headSpan = file.Span(pos, (int)Math.Min(file.Length - pos, 4096));
        int nl = headSpan.IndexOf((byte)'\n');
        if (nl < 0 || !TextVectors.TryParseHeader(headSpan[..nl], out long declared, out int dims))
        {
            throw new FileFormatException(file.Path, "expected a header line 'count dimensions' (two positive integers)", byteOffset: pos);
        }
        if (dims > int.MaxValue / sizeof(float)) throw new FileFormatException(file.Path,
            $"the header says {dims} dimensions; a row of float32 must fit in 2 GB", byteOffset: pos);
        pos += nl + 1;
        long rowsLong = Math.Min(declared, options.Limit ?? long.MaxValue);
        // Each row holds at least a 1-byte key, a space and 4·dims bytes, so no more than `capacity` rows
        // fit in what follows the header: nothing is allocated for the rest of a count that lies (the
        // loop below then fails at the exact byte where the file ends, at the latest in row `capacity`).
        long rowBytes = 2 + 4L * dims;
        int capacity = (int)Math.Min(rowsLong, (file.Length - pos) / rowBytes + 1);
        if ((long)capacity * dims > int.MaxValue) throw new FileFormatException(file.Path,
            $"{declared} × {dims} is too large for one matrix", byteOffset: 0);
        int rows = capacity;
        int vectorBytes = dims * sizeof(float);
        // The bytes after the header less each row's space and vector: the keys (and newlines) of a file whose count is right.
        long keyRoom = Math.Max(0, file.Length - pos - rows * (vectorBytes + 1L));
        var keys = new KeyTable.Builder(rows, options.Limit is null ? keyRoom : Math.Min(keyRoom, rows * 16L));
        var offsets = new long[(rows + OffsetEvery - 1) / OffsetEvery];
        var matrix = new float[(long)rows * dims];
        for (int r = 0; r < rows; r++)
        {
            while (pos < file.Length && file.At(pos) == (byte)'\n') pos++;
            var window = file.Span(pos, (int)Math.Min(file.Length - pos, MaxKeyBytes));
            int space = window.IndexOf((byte)' ');
            if (space < 0)
            {
                string cause = window.Length < MaxKeyBytes
                    ? $"unexpected end of file in row {r + 1} of {declared} (no key followed by a space); is the count in the header " +
                        "wrong, or the file truncated?"
                    : $"no space after a key within {MaxKeyBytes} bytes in row {r + 1}; is this really word2vec binary (or is the " +
                        "dimension in the header wrong)?";
                throw new FileFormatException(file.Path, cause, byteOffset: pos);
            }
            if (r % OffsetEvery == 0) offsets[r / OffsetEvery] = pos;
            var key = KeyDecoder.Utf8(window[..space], options.Utf8Errors, file.Path, null, pos);
            keys.Add(key);
            pos += space + 1;
            if (file.Length - pos < vectorBytes)
            {
                throw new FileFormatException(file.Path,
                    $"unexpected end of file in the vector of row {r + 1} of {declared}: needed {vectorBytes} bytes, found " +
                        $"{file.Length - pos}; is the count or dimension in the header wrong, or the file truncated?",
                    byteOffset: pos);
            }
            var dst = matrix.AsSpan(r * dims, dims);
            MemoryMarshal.Cast<byte, float>(file.Span(pos, vectorBytes)).CopyTo(dst);
            if (!BitConverter.IsLittleEndian) ReverseEndianness(dst);
            int bad = NonFinite.IndexOf(dst);
            if (bad >= 0)
            {
                throw new FileFormatException(file.Path,
                    $"value {bad + 1} of row {r + 1} ('{Encoding.UTF8.GetString(key)}') is {dst[bad]}; NaN and infinity are not " +
                        "allowed (a diverged training run?)",
                    byteOffset: pos + bad * sizeof(float));
            }
            pos += vectorBytes;
            if ((r & 0xFFFF) == 0) options.Progress?.Invoke((double)pos / file.Length);
        }
        if (options.Limit is null && pos < file.Length)
        {
            var rest = file.Span(pos, (int)Math.Min(file.Length - pos, int.MaxValue));
            int extra = rest.IndexOfAnyExcept(" \t\r\n"u8);
            if (extra >= 0)
            {
                throw new FileFormatException(file.Path,
                    $"unexpected data after the last of the {declared} rows the header declares; is the count in the header wrong?",
                        byteOffset: pos + extra);
            }
        }
        string path = file.Path;
        var duplicate = KeyDecoder.Duplicate(path, r => (null, RowStart(path, offsets[r / OffsetEvery], r % OffsetEvery, vectorBytes)));
        return new KeyedVectors(keys.Build(duplicate), matrix, dims, owner: null);
    }

    /// <summary>
    /// Where the row <paramref name="skip"/> rows after the one at <paramref name="from"/> starts, read again from the file: only
    /// the message about a repeated key needs it (the table is checked after the file is unmapped), so no offset per row is kept.
    /// </summary>
    static long RowStart(string path, long from, int skip, int vectorBytes)
    {
        using var file = new MappedFile(path);
        long pos = from;
        for (int i = 0; i < skip; i++)
        {
            pos += file.Span(pos, (int)Math.Min(file.Length - pos, MaxKeyBytes)).IndexOf((byte)' ') + 1 + vectorBytes;
            while (pos < file.Length && file.At(pos) == (byte)'\n') pos++;
        }
        return pos;
    }

    public static void Write(KeyedVectors vectors, string path)
    {
        TextVectors.CheckKeys(vectors, "word2vec binary");
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Encoding.ASCII.GetBytes($"{vectors.Count} {vectors.Dimensions}\n"));
            var row = new float[vectors.Dimensions];
            for (int i = 0; i < vectors.Count; i++)
            {
                stream.Write(Encoding.UTF8.GetBytes(vectors.Keys[i] + " "));
                vectors.Row(i).CopyTo(row);
                if (!BitConverter.IsLittleEndian) ReverseEndianness(row);
                stream.Write(MemoryMarshal.AsBytes(row.AsSpan()));
                stream.WriteByte((byte)'\n');
            }
        });
    }

    static void ReverseEndianness(Span<float> values)
    {
        var bits = MemoryMarshal.Cast<float, int>(values);
        System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(bits, bits);
    }
}
