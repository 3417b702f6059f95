using System.Buffers.Binary;
using System.Globalization;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// The rows of one 2-D tensor of a safetensors file as vectors. A directory stands for its
/// <c>model.safetensors</c> (a TokenSpace checkpoint written by <see cref="Checkpoint"/>, or a Hugging Face
/// GPT-2 folder). The keys are, in this order of preference:
/// <list type="bullet">
/// <item>the lines of <see cref="VectorsLoadOptions.KeysPath"/> when given;</item>
/// <item>for <c>wte</c> (and an untied <c>lm_head</c>, also one row per token), the token strings of the tokenizer beside the file: a
/// TokenSpace character
/// <c>tokenizer.json</c> (the character, BOS as <c>&lt;BOS&gt;</c>), GPT-2's <c>vocab.json</c> +
/// <c>merges.txt</c>, or, for a 50,257-row wte with neither, GPT-2's own vocabulary (<see cref="Tokenization.Gpt2BpeTokenizer.Create"/>)
/// (token bytes decoded to text, <c>" king"</c>);</item>
/// <item>for <c>wpe</c>, <c>pos:0</c>, <c>pos:1</c>, …;</item>
/// <item>otherwise the row indices <c>0</c>, <c>1</c>, ….</item>
/// </list>
/// </summary>
static class SafetensorsVectors
{
    /// <summary>
    /// Whether <paramref name="head"/>, a file's first bytes, starts like a safetensors file: an 8-byte
    /// header length below 2^40, then '{'. Neither the length's limit nor the file's length is checked:
    /// a truncated file or an oversized header is still safetensors, and its reader says what is wrong.
    /// Text cannot start this way: its first eight bytes read as a length above 2^56.
    /// </summary>
    public static bool LooksLikeSafetensors(ReadOnlySpan<byte> head)
    {
        if (head.Length < 9) return false;
        ulong header = BinaryPrimitives.ReadUInt64LittleEndian(head);
        return header >= 2 && header < 1UL << 40 && head[8] == (byte)'{';
    }

    /// <summary>
    /// Reads the tensor <see cref="VectorsLoadOptions.Tensor"/> (default: the token embedding, see <see cref="DefaultNames"/>,
    /// or the file's only 2-D tensor) of <paramref name="path"/>: a safetensors file, a checkpoint directory, or a sharded
    /// checkpoint (a directory with <c>model.safetensors.index.json</c>, or that index file). A BF16 or F16 tensor is kept
    /// as stored, memory-mapped; F32 and F64 are read into float32.
    /// </summary>
    /// <exception cref="FileFormatException">No such tensor, not 2-D, an unsupported dtype, a NaN or infinity, shards that disagree, or a
    /// tokenizer whose size differs from the rows.</exception>
    /// <exception cref="FileNotFoundException">A directory without <c>model.safetensors</c> or an index.</exception>
    public static KeyedVectors Read(string path, VectorsLoadOptions options)
    {
        var (tensors, entry) = Locate(path, options.Tensor);
        string file = tensors.Path;
        if (entry.Shape.Length != 2)
            throw new FileFormatException(file,
                $"tensor '{entry.Name}' has shape [{string.Join(", ", entry.Shape)}]; vectors need a 2-D tensor (rows, dimensions)",
                byteOffset: 8);
        if (entry.Shape[1] < 1) throw new FileFormatException(file,
            $"tensor '{entry.Name}' has 0 columns; vectors need at least one dimension", byteOffset: 8);
        if (entry.Shape[0] > int.MaxValue / entry.Shape[1])
            throw new FileFormatException(file,
                $"tensor '{entry.Name}' [{entry.Shape[0]}, {entry.Shape[1]}] has more than {int.MaxValue} values, too many for one matrix",
                byteOffset: 8);
        int count = (int)entry.Shape[0], dims = (int)entry.Shape[1];
        int rows = Math.Min(count, options.Limit ?? int.MaxValue);
        string dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        CheckWidth(dir, entry, dims);

        string role = Role(entry.Name);
        string[] keys;
        string keysSource = file;
        // A keys file named after a bare file (what convert writes) names its rows, before a tokenizer beside it.
        bool bare = Path.GetFullPath(file) == Path.GetFullPath(path);
        string? keysFile = options.KeysPath ?? (bare && File.Exists(KeysFile.Beside(file)) ? KeysFile.Beside(file) : null);
        if (keysFile is { } keysPath)
        {
            keys = NpyReader.ReadKeys(keysPath, count, rows, options.Utf8Errors);
            keysSource = keysPath;
        }
        else if (role is "wte" or "lm_head" && Tokenizer(dir, count) is { } tokens)
        {
            keys = Enumerable.Range(0, rows).Select(tokens.Text).ToArray();
            keysSource = tokens.Source;
        }
        else
        {
            string prefix = role == "wpe" ? "pos:" : "";
            keys = Enumerable.Range(0, rows).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        var table = keysFile is not null ? KeyDecoder.Table(keys, keysSource, r => (r + 1, null))
            : KeyTable.FromStrings(keys, (key, first, row) => new FileFormatException(keysSource,
                $"tokens {first} and {row} both read as '{key}'; keys must be unique — give a keys file (VectorsLoadOptions.KeysPath)"));
        long dataOffset = tensors.DataStart + entry.Begin;
        if (entry.DType is "BF16" or "F16") return Mapped(tensors.Path, entry, dataOffset, table, rows, dims);

        var all = tensors.ReadFloat32(entry.Name);
        var matrix = rows == count ? all : all[..(rows * dims)];
        int bad = NonFinite.IndexOf(matrix);
        if (bad >= 0) throw NotFinite(file, entry, table, bad, dims, dataOffset + (long)bad * (entry.End - entry.Begin) / entry.Count);
        return new KeyedVectors(table, matrix, dims, owner: null);
    }

    /// <summary>
    /// Writes <paramref name="vectors"/> as one float32 tensor <c>vectors</c> (count, dimensions) and its keys beside it
    /// (<see cref="KeysFile"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A key cannot be stored in a keys file.</exception>
    public static void Write(KeyedVectors vectors, string path)
    {
        KeysFile.Write(vectors, path);
        SafetensorsFile.Write(path, [("vectors", [vectors.Count, vectors.Dimensions], vectors.Vectors.ToArray())]);
    }

    /// <summary>The first <paramref name="rows"/> rows of a 16-bit tensor as a view of the mapped file, every value checked
    /// finite.</summary>
    static KeyedVectors Mapped(string file, SafetensorsEntry entry, long offset, KeyTable keys, int rows, int dims)
    {
        var mapped = new MappedFile(file);
        try
        {
            var bits = mapped.Elements<ushort>(offset, rows * dims);
            var kind = entry.DType == "BF16" ? VectorStorage.BFloat16 : VectorStorage.Float16;
            var kv = new KeyedVectors(keys, bits, kind, dims, mapped);
            // One pass over the mapping both checks every value and computes the norms the first query needs:
            // a row holds a NaN or infinity exactly when its (double) norm is not finite.
            int row = kv.FirstNonFiniteRow();
            if (row < 0) return kv;
            int bad = row * dims + NonFinite.IndexOf16(bits.Slice(row * dims, dims), kind == VectorStorage.BFloat16
                ? NonFinite.BFloat16Exponent : NonFinite.Float16Exponent);
            throw NotFinite(file, entry, keys, bad, dims, offset + 2L * bad);
        }
        catch
        {
            mapped.Dispose();
            throw;
        }
    }

    static FileFormatException NotFinite(string file, SafetensorsEntry entry, KeyTable keys, long bad, int dims, long offset) =>
        new(file, $"tensor '{entry.Name}' element [{bad / dims}, {bad % dims}] (row '{keys[(int)(bad / dims)]}') is not finite; NaN and " +
            "infinity " +
            "are not allowed", byteOffset: offset);

    /// <summary>The file and entry of the tensor <paramref name="wanted"/> names in <paramref name="path"/> (a file, a checkpoint folder, a
    /// sharded checkpoint).</summary>
    static (SafetensorsFile File, SafetensorsEntry Entry) Locate(string path, string? wanted)
    {
        string? indexPath = Directory.Exists(path)
            ? (File.Exists(Path.Combine(path, SafetensorsIndex.FileName)) ? Path.Combine(path, SafetensorsIndex.FileName) : null)
            : SafetensorsIndex.LooksLikeIndex(path) ? path : null;
        if (indexPath is not null)
        {
            var sharded = SafetensorsIndex.Open(indexPath);
            foreach (string name in Candidates(wanted))
            {
                if (sharded.Find(name) is { } found) return found;
            }
            throw new FileFormatException(indexPath,
                (wanted is null
                    ? $"no tensor named {string.Join(", ", DefaultNames.Take(4))}…; choose one with VectorsLoadOptions.Tensor "
                    : $"no tensor '{wanted}' ")
                + $"(the index lists {string.Join(", ", sharded.Names.Take(12))}{(sharded.Names.Count() > 12 ? ", …" : "")})",
                    byteOffset: 0);
        }
        string file = path;
        if (Directory.Exists(path))
        {
            file = Path.Combine(path, Checkpoint.ModelFile);
            if (!File.Exists(file))
                throw new FileNotFoundException($"{path} is a directory without {Checkpoint.ModelFile} or {SafetensorsIndex.FileName}; " +
                    "expected a TokenSpace checkpoint or a Hugging Face model folder", file);
        }
        var tensors = SafetensorsFile.Open(file);
        return (tensors, FindTensor(tensors, wanted));
    }

    /// <summary>
    /// The names a token embedding has in Hugging Face models, tried in order when no tensor is named: GPT-2 (<c>wte</c>,
    /// <c>transformer.wte.weight</c>), Llama / Mistral / Qwen / Gemma (<c>model.embed_tokens.weight</c>), OPT, GPT-NeoX, BLOOM.
    /// </summary>
    internal static readonly string[] DefaultNames =
    [
        "wte", "wte.weight", "transformer.wte", "transformer.wte.weight", "model.embed_tokens.weight", "embed_tokens.weight",
        "model.decoder.embed_tokens.weight", "gpt_neox.embed_in.weight", "transformer.word_embeddings.weight",
    ];

    /// <summary>The names <paramref name="wanted"/> may be stored under: itself, with <c>.weight</c>, with <c>transformer.</c> or
    /// <c>model.</c> before it.</summary>
    static string[] Candidates(string? wanted) => wanted is null ? DefaultNames
        : [.. from prefix in NamePrefixes from suffix in NameSuffixes select prefix + wanted + suffix];

    static readonly string[] NamePrefixes = ["", Checkpoint.HuggingFacePrefix, "model."], NameSuffixes = ["", ".weight"];

    /// <summary>A <c>config.json</c> beside the tensor whose <c>hidden_size</c> (or <c>n_embd</c>) differs from the tensor's width is the
    /// wrong checkpoint part.</summary>
    static void CheckWidth(string dir, SafetensorsEntry entry, int dims)
    {
        string config = Path.Combine(dir, "config.json");
        if (Role(entry.Name) is not ("wte" or "lm_head") || !File.Exists(config)) return;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(config));
            foreach (string field in new[] { "hidden_size", "n_embd" })
            {
                if (doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && doc.RootElement.TryGetProperty(field, out var v)
                    && v.TryGetInt64(out long width) && width != dims)
                {
                    throw new FileFormatException(config,
                        $"{field} is {width} but tensor '{entry.Name}' is {dims} wide; do the shards and config.json come from one model?");
                }
            }
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new FileFormatException(config, $"not JSON: {e.Message}", (e.LineNumber ?? 0) + 1, inner: e);
        }
    }

    /// <summary>The names of the 2-D tensors of <paramref name="file"/>.</summary>
    static IEnumerable<string> MatrixNames(SafetensorsFile file) => file.Entries.Values.Where(e => e.Shape.Length == 2).Select(e => e.Name);

    /// <summary>
    /// The entry <paramref name="wanted"/> names: exactly, or with the <c>.weight</c> suffix or the
    /// <c>transformer.</c> prefix that Hugging Face exports add (<c>wte</c> finds <c>transformer.wte.weight</c>).
    /// Without a name: wte if present, else the only 2-D tensor.
    /// </summary>
    static SafetensorsEntry FindTensor(SafetensorsFile file, string? wanted)
    {
        foreach (string candidate in Candidates(wanted))
        {
            if (file.Entries.TryGetValue(candidate, out var entry)) return entry;
        }
        var matrices = MatrixNames(file).ToList();
        if (wanted is null && matrices.Count == 1) return file.Entries[matrices[0]];
        string listed = matrices.Count == 0 ? "it has no 2-D tensor"
            : $"its 2-D tensors: {string.Join(", ", matrices.Take(12))}{(matrices.Count > 12 ? $" and {matrices.Count - 12} more" : "")}";
        throw new FileFormatException(file.Path, wanted is null
            ? $"no token embedding ({string.Join(", ", DefaultNames.Take(4))}, …); choose a tensor with VectorsLoadOptions.Tensor " +
                $"({listed})"
            : $"no tensor '{wanted}' ({listed})", byteOffset: 8);
    }

    /// <summary>"wte" (any token embedding of <see cref="DefaultNames"/>), "wpe", "lm_head" or the name itself, once the Hugging Face
    /// prefix and suffix are stripped.</summary>
    static string Role(string name)
    {
        if (DefaultNames.Contains(name)) return "wte";
        name = Checkpoint.PlainName(name);
        if (name.EndsWith(".weight", StringComparison.Ordinal)) name = name[..^".weight".Length];
        return name;
    }

    /// <summary>The token texts of the tokenizer in <paramref name="dir"/>, or null when there is none for <paramref name="rows"/>
    /// rows.</summary>
    /// <exception cref="FileFormatException">The tokenizer found has another number of tokens than wte has rows.</exception>
    static (Func<int, string> Text, string Source)? Tokenizer(string dir, int rows)
    {
        var found = CheckpointTokenizer.Find(dir);
        string json = Path.Combine(dir, Checkpoint.TokenizerFile);
        if (found is null && File.Exists(json) && TokenizerJsonKeys.Read(json, rows) is { } pieces) return (i => pieces[i], json);
        if (found is null && rows == GptVocabularySize) found = (Gpt2BpeTokenizer.Create(), "GPT-2's vocabulary");
        if (found is not var (tokenizer, source)) return null;
        if (tokenizer.VocabSize != rows)
        {
            throw new FileFormatException(source, $"the tokenizer has {tokenizer.VocabSize} tokens but the tensor has {rows} rows; "
                + "is it the tokenizer of this model? (a keys file, VectorsLoadOptions.KeysPath, names the rows instead)");
        }
        return (tokenizer.TokenText, source);
    }

    const int GptVocabularySize = 50257;
}
