using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace TokenSpace.IO;

/// <summary>One tensor's entry in a safetensors header: dtype, shape, and where its bytes lie in the data section.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    /// <summary>The product of the shape (1 for a scalar).</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// mapping names to <c>{dtype, shape, data_offsets}</c> (plus optional <c>__metadata__</c>), then the
/// raw little-endian tensor bytes. Reads F32, F16, BF16 and F64 as float32; writes F32.
/// </summary>
public sealed class SafetensorsFile
{
    /// <summary>The largest header accepted (as the safetensors reference: 100 MB).</summary>
    internal const long MaxHeader = 100L << 20;

    SafetensorsFile(string path, long dataStart, Dictionary<string, SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        DataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>Byte offset of the data section.</summary>
    public long DataStart { get; }

    /// <summary>Every tensor, by name, in header order.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads and validates the header of <paramref name="path"/>; tensor data is read on demand.</summary>
    /// <exception cref="FileFormatException">The header is truncated, not JSON, or describes data outside the file.</exception>
    public static SafetensorsFile Open(string path)
    {
        using var file = File.OpenHandle(path);
        long length = RandomAccess.GetLength(file);
        if (length < 8) throw new FileFormatException(path,
            $"file has {length} bytes; a safetensors file starts with an 8-byte header length", byteOffset: 0);
        Span<byte> prefix = stackalloc byte[8];
        RandomAccess.Read(file, prefix, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeader)
            throw new FileFormatException(path,
                $"header length {headerLength} is over the {MaxHeader >> 20} MB limit of safetensors; is this a safetensors file?",
                byteOffset: 0);
        if (8 + (long)headerLength > length)
            throw new FileFormatException(path,
                $"header length {headerLength} does not fit in a file of {length} bytes; is this a safetensors file?", byteOffset: 0);
        var header = new byte[headerLength];
        RandomAccess.Read(file, header, 8);
        long dataStart = 8 + (long)headerLength;
        long dataLength = length - dataStart;

        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        // Read as a stream of tokens, not a JsonDocument (whose index takes about six times a header's
        // size), and every name once: JSON leaves repeated names undefined.
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 4 });
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, "the header object", path);
            bool sawMetadata = false;
            while (Next(ref reader, path) && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                if (name == "__metadata__" ? sawMetadata : entries.ContainsKey(name))
                    throw new FileFormatException(path, $"tensor '{name}' is listed twice in the header; names must be unique",
                        byteOffset: 8 + reader.TokenStartIndex);
                Expect(ref reader, JsonTokenType.StartObject, $"an object for '{name}'", path);
                if (name == "__metadata__")
                {
                    sawMetadata = true;
                    while (Next(ref reader, path) && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string key = reader.GetString()!;
                        Expect(ref reader, JsonTokenType.String, $"a string for __metadata__ '{key}'", path);
                        if (!metadata.TryAdd(key, reader.GetString()!))
                            throw new FileFormatException(path, $"__metadata__ '{key}' is listed twice", byteOffset: 8
                                + reader.TokenStartIndex);
                    }
                    continue;
                }
                var entry = ReadEntry(ref reader, name, path);
                long bytes = ByteSize(entry, path);
                if (entry.Begin < 0 || entry.End < entry.Begin || entry.End > dataLength || entry.End - entry.Begin != bytes)
                {
                    throw new FileFormatException(path,
                        $"tensor '{name}' ({entry.DType} [{string.Join(", ", entry.Shape)}] = {bytes} bytes) has data_offsets " +
                            $"[{entry.Begin}, {entry.End}] in a data section of {dataLength} bytes; the file is truncated or its header " +
                            "is wrong",
                        byteOffset: 8);
                }
                entries.Add(name, entry);
            }
            if (JsonEnd.HasTrailingData(ref reader)) throw new FileFormatException(path, "unexpected data after the header object",
                byteOffset: 8 + reader.TokenStartIndex);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new FileFormatException(path, $"the header is not a valid safetensors JSON header: {e.Message}", byteOffset: 8
                + reader.BytesConsumed, inner: e);
        }
        CheckDisjoint(entries.Values, path);
        return new SafetensorsFile(path, dataStart, entries, metadata);
    }

    /// <summary>The largest rank accepted (PyTorch's own limit is 64 dimensions).</summary>
    const int MaxDims = 64;

    /// <summary>One tensor's <c>{dtype, shape, data_offsets}</c>, the reader on its StartObject.</summary>
    static SafetensorsEntry ReadEntry(ref Utf8JsonReader reader, string name, string path)
    {
        string? dtype = null;
        long[]? shape = null, offsets = null;
        while (Next(ref reader, path) && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            long at = 8 + reader.TokenStartIndex;
            Next(ref reader, path);
            if ((field == "dtype" && dtype is not null) || (field == "shape" && shape is not null)
                || (field == "data_offsets" && offsets is not null))
                throw new FileFormatException(path, $"tensor '{name}': \"{field}\" is listed twice", byteOffset: at);
            switch (field)
            {
                case "dtype":
                    if (reader.TokenType != JsonTokenType.String) throw new FileFormatException(path,
                        $"tensor '{name}': dtype must be a string", byteOffset: at);
                    dtype = reader.GetString()!;
                    break;
                case "shape":
                    shape = Integers(ref reader, MaxDims, $"tensor '{name}': shape", path);
                    break;
                case "data_offsets":
                    offsets = Integers(ref reader, 2, $"tensor '{name}': data_offsets", path);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw new FileFormatException(path, $"tensor '{name}' needs \"dtype\", \"shape\" and \"data_offsets\"", byteOffset: 8
                + reader.TokenStartIndex);
        if (offsets.Length != 2) throw new FileFormatException(path, $"tensor '{name}': data_offsets must be [begin, end]", byteOffset: 8);
        return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    /// <summary>An array of at most <paramref name="max"/> 64-bit integers, the reader on its StartArray.</summary>
    static long[] Integers(ref Utf8JsonReader reader, int max, string what, string path)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new FileFormatException(path, $"{what} must be an array of integers",
            byteOffset: 8 + reader.TokenStartIndex);
        var values = new List<long>();
        while (Next(ref reader, path) && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || values.Count == max)
                throw new FileFormatException(path, $"{what} must hold at most {max} 64-bit integers", byteOffset: 8
                    + reader.TokenStartIndex);
            values.Add(v);
        }
        return [.. values];
    }

    static bool Next(ref Utf8JsonReader reader, string path) =>
        reader.Read() ? true : throw new FileFormatException(path, "the header JSON ends early; is the file truncated?", byteOffset: 8
            + reader.BytesConsumed);

    static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what, string path)
    {
        Next(ref reader, path);
        if (reader.TokenType != type) throw new FileFormatException(path, $"expected {what}, found {reader.TokenType}", byteOffset: 8
            + reader.TokenStartIndex);
    }

    /// <summary>
    /// The bytes <paramref name="entry"/> needs: the product of its shape times the element size, formed
    /// with overflow checks (a shape whose byte size wraps to a small number must not pass the offset check).
    /// </summary>
    static long ByteSize(SafetensorsEntry entry, string path)
    {
        long bytes = ElementSize(entry.DType, path, entry.Name);
        foreach (long d in entry.Shape)
        {
            if (d < 0 || (d > 0 && bytes > long.MaxValue / d))
            {
                throw new FileFormatException(path,
                    $"tensor '{entry.Name}' has shape [{string.Join(", ", entry.Shape)}], " +
                        $"{(d < 0 ? "a negative dimension" : "more bytes than any file holds")}", byteOffset: 8);
            }
            bytes *= d;
        }
        return bytes;
    }

    /// <summary>Two tensors must not share bytes (the reference implementation refuses such files too).</summary>
    static void CheckDisjoint(IEnumerable<SafetensorsEntry> entries, string path)
    {
        SafetensorsEntry? previous = null;
        foreach (var e in entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin))
        {
            if (previous is not null && e.Begin < previous.End)
            {
                throw new FileFormatException(path,
                    $"tensors '{previous.Name}' [{previous.Begin}, {previous.End}) and '{e.Name}' [{e.Begin}, {e.End}) overlap in the " +
                        "data section; the header is wrong", byteOffset: 8);
            }
            previous = e;
        }
    }

    /// <summary>Reads tensor <paramref name="name"/> as float32, converting from its stored dtype.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    public float[] ReadFloat32(string name)
    {
        if (!Entries.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"{Path}: no tensor named '{name}' (it has " +
                $"{string.Join(", ", Entries.Keys.Take(8))}{(Entries.Count > 8 ? ", …" : "")})");
        long offset = DataStart + entry.Begin;
        if (entry.DType is not ("F32" or "F16" or "BF16" or "F64"))
            throw new FileFormatException(Path, $"tensor '{name}' has dtype {entry.DType}; expected F32, F16, BF16 or F64",
                byteOffset: offset);
        if (entry.Count > Array.MaxLength)
            throw new FileFormatException(Path, $"tensor '{name}' has {entry.Count} values, more than one array holds ({Array.MaxLength})",
                byteOffset: offset);
        var result = new float[entry.Count];
        using var file = File.OpenHandle(Path);
        switch (entry.DType)
        {
            case "F32":
                ReadExactly(file, MemoryMarshal.AsBytes(result.AsSpan()), offset);
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
                break;
            default:
            {
                // Converted a megabyte at a time: a whole-tensor copy in the stored type would take the
                // load's memory past twice the file's size.
                int size = entry.DType == "F64" ? 8 : 2;
                var buffer = new byte[(int)Math.Min(1 << 20, entry.End - entry.Begin)];
                for (int done = 0; done < result.Length;)
                {
                    int n = Math.Min(result.Length - done, buffer.Length / size);
                    var bytes = buffer.AsSpan(0, n * size);
                    ReadExactly(file, bytes, offset + (long)done * size);
                    Widen(entry.DType, bytes, result.AsSpan(done, n));
                    done += n;
                }
                break;
            }
        }
        return result;
    }

    /// <summary>
    /// Writes float32 tensors to <paramref name="path"/> atomically, in the given order, with optional
    /// <c>__metadata__</c>.
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, long[] Shape, ReadOnlyMemory<float> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, shape, data) in list)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (count != data.Length) throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] needs {count} " +
                $"floats, got {data.Length}");
            header[name] = new { dtype = "F32", shape, data_offsets = new[] { offset, offset + count * 4 } };
            offset += count * 4;
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        // Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer does.
        int padded = (json.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        json.CopyTo(headerBytes, 0);
        headerBytes.AsSpan(json.Length).Fill((byte)' ');
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
            stream.Write(prefix);
            stream.Write(headerBytes);
            foreach (var (_, _, data) in list) stream.Write(MemoryMarshal.AsBytes(data.Span));
        });
    }

    /// <summary>Little-endian F16, BF16 or F64 values of <paramref name="bytes"/> as float32 into <paramref name="dst"/>.</summary>
    static void Widen(string dtype, ReadOnlySpan<byte> bytes, Span<float> dst)
    {
        if (dtype == "F16")
        {
            var half = MemoryMarshal.Cast<byte, Half>(bytes);
            for (int i = 0; i < dst.Length; i++) dst[i] = (float)half[i];
        }
        else if (dtype == "BF16")
        {
            var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
            for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
        }
        else
        {
            var wide = MemoryMarshal.Cast<byte, double>(bytes);
            for (int i = 0; i < dst.Length; i++) dst[i] = (float)wide[i];
        }
    }

    void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle file, Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(file, destination[..Math.Min(destination.Length, 1 << 30)], offset);
            if (read == 0) throw new FileFormatException(Path, "unexpected end of file inside tensor data; the file is truncated",
                byteOffset: offset);
            destination = destination[read..];
            offset += read;
        }
    }

    static int ElementSize(string dtype, string path, string name) => dtype switch
    {
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "F64" or "I64" or "U64" => 8,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => throw new FileFormatException(path, $"tensor '{name}' has unknown dtype '{dtype}'", byteOffset: 8),
    };
}
