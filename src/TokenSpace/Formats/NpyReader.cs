using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using TokenSpace.IO;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// NumPy <c>.npy</c> matrices (format versions 1.0, 2.0, 3.0; 2-D; C order; float16, float32 or
/// float64, either byte order) with their keys in a text file, one key per line.
/// </summary>
static partial class NpyReader
{
    /// <summary>The first 6 bytes of every .npy file.</summary>
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The longest header dict read (NumPy's own reader refuses more than 10,000 bytes by default).</summary>
    const int MaxHeader = 1 << 16;

    /// <summary>What the header says: dtype string, item size, byte order, shape and where the data starts.</summary>
    internal readonly record struct Header(string Type, int ItemSize, bool Little, long Count, long Dims, long DataOffset)
    {
        /// <summary>NumPy's name of the element type.</summary>
        public string DtypeName => ItemSize switch { 2 => "float16", 4 => "float32", _ => "float64" };
    }

    /// <summary>Reads and checks the header (version, dtype, order, shape, data length).</summary>
    internal static Header ReadHeader(MappedFile file)
    {
        if (file.Length < 10 || !file.Span(0, 6).SequenceEqual(Magic)) throw Bad(file, "expected the .npy magic '\\x93NUMPY'", 0);
        byte major = file.At(6);
        int lengthBytes = major switch
        {
            1 => 2,
            2 or 3 => 4,
            _ => throw Bad(file, $"format version {major}.{file.At(7)} is not supported; expected 1.0, 2.0 or 3.0", 6),
        };
        if (file.Length < 8 + lengthBytes) throw Bad(file, "the header is truncated", file.Length);
        var lengthSpan = file.Span(8, lengthBytes);
        long headerLength = lengthBytes == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthSpan)
            : BinaryPrimitives.ReadUInt32LittleEndian(lengthSpan);
        long dataOffset = 8 + lengthBytes + headerLength;
        if (headerLength > MaxHeader) throw Bad(file,
            $"the header claims {headerLength} bytes; NumPy writes a few hundred (at most {MaxHeader}); is the file damaged?", 8);
        if (dataOffset > file.Length) throw Bad(file, $"the header claims {headerLength} bytes but the file ends first; truncated?",
            file.Length);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(file.Span(8 + lengthBytes, (int)headerLength));

        var descr = DescrPattern().Match(header);
        var order = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !order.Success || !shape.Success) throw Bad(file,
            $"expected a header dict with 'descr', 'fortran_order' and 'shape', found {header.Trim()}", 8 + lengthBytes);
        if (order.Groups[1].Value == "True") throw Bad(file,
            "the array is in Fortran order; expected C order (save it with np.ascontiguousarray)", 8 + lengthBytes);
        string type = descr.Groups[1].Value;
        bool little = type[0] is '<' or '|' || (type[0] == '=' && BitConverter.IsLittleEndian);
        int itemSize = type[1..] switch
        {
            "f2" => 2,
            "f4" => 4,
            "f8" => 8,
            _ => throw Bad(file, $"dtype '{type}' is not supported; expected float16, float32 or float64 ('<f2', '<f4', '<f8')", 8
                + lengthBytes),
        };
        // Python 2 wrote long integers with an L suffix: (341479L, 100L).
        var dimsText = shape.Groups[1].Value.Split(',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => t.TrimEnd('L')).ToArray();
        if (dimsText.Length != 2 || !long.TryParse(dimsText[0], out long count) || !long.TryParse(dimsText[1], out long dims))
        {
            throw Bad(file, $"shape ({shape.Groups[1].Value}) is not two 64-bit integers; expected a 2-D (count, dimensions)", 8
                + lengthBytes);
        }
        // count ≤ int.MaxValue / dims bounds the product before it is formed, so it cannot wrap.
        if (count < 0 || dims < 1 || count > int.MaxValue / dims)
            throw Bad(file, $"shape ({count}, {dims}) is not a usable matrix; expected at most {int.MaxValue} values", 8 + lengthBytes);
        long needed = count * dims * itemSize;
        if (file.Length - dataOffset != needed)
        {
            throw Bad(file, $"expected {needed} bytes of data for shape ({count}, {dims}) {type}, found {file.Length - dataOffset}; " +
                "truncated or not this shape?",
                Math.Min(file.Length, dataOffset + needed));
        }
        return new Header(type, itemSize, little, count, dims, dataOffset);
    }

    public static KeyedVectors Read(MappedFile file, VectorsLoadOptions options)
    {
        var (_, itemSize, little, count, dims, dataOffset) = ReadHeader(file);
        string keysPath = FindKeys(file.Path, options.KeysPath);
        int rows = (int)Math.Min(count, options.Limit ?? long.MaxValue);
        var keys = ReadKeys(keysPath, count, rows, options.Utf8Errors);
        // A float16 matrix asked to stay float16 is stored as read, never widened.
        bool keepHalf = itemSize == 2 && options.Storage == VectorStorage.Float16;
        var matrix = keepHalf ? [] : new float[(long)rows * dims];
        var halves = keepHalf ? new ushort[(long)rows * dims] : [];
        var data = file.Span(dataOffset, (int)(rows * dims * itemSize));
        bool swap = little != BitConverter.IsLittleEndian;
        for (int i = 0; i < rows * dims; i++)
        {
            var bytes = data.Slice(i * itemSize, itemSize);
            float v = itemSize switch
            {
                2 => (float)BitConverter.Int16BitsToHalf(swap ? BinaryPrimitives.ReverseEndianness(MemoryMarshal.Read<short>(bytes))
                    : MemoryMarshal.Read<short>(bytes)),
                4 => BitConverter.Int32BitsToSingle(swap ? BinaryPrimitives.ReverseEndianness(MemoryMarshal.Read<int>(bytes))
                    : MemoryMarshal.Read<int>(bytes)),
                _ => (float)BitConverter.Int64BitsToDouble(swap ? BinaryPrimitives.ReverseEndianness(MemoryMarshal.Read<long>(bytes))
                    : MemoryMarshal.Read<long>(bytes)),
            };
            if (!float.IsFinite(v))
            {
                throw Bad(file, $"value {i % dims + 1} of row {i / dims + 1} ('{keys[i / dims]}') is not " +
                    $"finite{(itemSize == 8 ? " in float32" : "")}; NaN and infinity are not allowed",
                    dataOffset + (long)i * itemSize);
            }
            if (keepHalf) halves[i] = BitConverter.HalfToUInt16Bits((Half)v); // exact: v is a widened float16
            else matrix[i] = v;
        }
        var table = KeyDecoder.Table(keys, keysPath, r => (r + 1, null));
        return keepHalf ? new KeyedVectors(table, halves, VectorStorage.Float16, (int)dims, owner: null)
            : new KeyedVectors(table, matrix, (int)dims, owner: null);
    }

    static string FindKeys(string npyPath, string? given)
    {
        if (given is not null) return given;
        string stem = Path.ChangeExtension(npyPath, null);
        foreach (string candidate in new[] { KeysFile.Beside(npyPath), stem + ".vocab", stem + ".txt" })
        {
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{npyPath}: no keys file beside it; expected {Path.GetFileName(KeysFile.Beside(npyPath))} (one " +
            "key per line) or give one (VectorsLoadOptions.KeysPath)",
            KeysFile.Beside(npyPath));
    }

    /// <summary>One key per line; exactly <paramref name="count"/> of them (a final newline and trailing blank lines are allowed); the
    /// first <paramref name="rows"/> are returned.</summary>
    internal static string[] ReadKeys(string path, long count, int rows, Utf8Errors errors)
    {
        var bytes = File.ReadAllBytes(path);
        var keys = new List<string>(rows);
        int pos = 0;
        long line = 0;
        while (pos < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', pos);
            int end = nl < 0 ? bytes.Length : nl;
            line++;
            var text = bytes.AsSpan(pos, end - pos).TrimEnd("\r"u8);
            pos = end + 1;
            if (text.IsEmpty && bytes.AsSpan(Math.Min(pos, bytes.Length)).IndexOfAnyExcept(" \t\r\n"u8) < 0) break;
            if (text.IsEmpty) throw new FileFormatException(path, "empty line; expected one key per line", line: line);
            if (line > count) throw new FileFormatException(path, $"more keys than the {count} rows of the matrix", line: line);
            if (keys.Count < rows) keys.Add(KeyDecoder.Decode(text, errors, path, line, pos));
        }
        if (line < count) throw new FileFormatException(path,
            $"found {line} keys for the {count} rows of the matrix; is this the right keys file?", line: line + 1);
        return keys.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="vectors"/> as a 2-D little-endian float32 <c>.npy</c> (format 1.0, the header padded to
    /// 64 bytes as NumPy writes it) and its keys beside it (<see cref="KeysFile"/>), each atomically.
    /// </summary>
    /// <exception cref="ArgumentException">A key cannot be stored in a keys file.</exception>
    public static void Write(KeyedVectors vectors, string path)
    {
        KeysFile.Write(vectors, path);
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({vectors.Count}, {vectors.Dimensions}), }}";
        int total = (10 + dict.Length + 1 + 63) / 64 * 64; // magic, version, length, dict, '\n'
        if (total - 10 > ushort.MaxValue) throw new ArgumentException("the .npy header does not fit format 1.0");
        string header = dict.PadRight(total - 10 - 1) + "\n";
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Magic);
            stream.Write([1, 0]);
            Span<byte> length = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
            stream.Write(length);
            stream.Write(Encoding.Latin1.GetBytes(header));
            var row = new float[vectors.Dimensions];
            for (int i = 0; i < vectors.Count; i++)
            {
                vectors.Row(i).CopyTo(row);
                var bits = MemoryMarshal.Cast<float, int>(row.AsSpan());
                if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(bits, bits);
                stream.Write(MemoryMarshal.AsBytes(row.AsSpan()));
            }
        });
    }

    static FileFormatException Bad(MappedFile file, string cause, long offset) => new(file.Path, cause, byteOffset: offset);

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=]f\d|[<>|=]?\w+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
