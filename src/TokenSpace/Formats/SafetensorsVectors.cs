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
/// <item>for <c>wte</c> (and an untied <c>lm_head</c>, also one row per token), the token strings of the tokenizer beside the file: a TokenSpace character
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

    /// <summary>Reads the tensor <see cref="VectorsLoadOptions.Tensor"/> (default <c>wte</c>, or the file's only 2-D tensor) of <paramref name="path"/>, a safetensors file or a checkpoint directory.</summary>
    /// <exception cref="FileFormatException">No such tensor, not 2-D, an unsupported dtype, a NaN or infinity, or a tokenizer whose size differs from the rows.</exception>
    /// <exception cref="FileNotFoundException">A directory without <c>model.safetensors</c>.</exception>
    public static KeyedVectors Read(string path, VectorsLoadOptions options)
    {
        string file = path;
        if (Directory.Exists(path))
        {
            file = Path.Combine(path, Checkpoint.ModelFile);
            if (!File.Exists(file))
                throw new FileNotFoundException($"{path} is a directory without {Checkpoint.ModelFile}; expected a TokenSpace checkpoint or a Hugging Face GPT-2 folder", file);
        }
        var tensors = SafetensorsFile.Open(file);
        var entry = FindTensor(tensors, options.Tensor);
        if (entry.Shape.Length != 2)
            throw new FileFormatException(file, $"tensor '{entry.Name}' has shape [{string.Join(", ", entry.Shape)}]; vectors need a 2-D tensor (rows, dimensions)", byteOffset: 8);
        if (entry.Shape[1] < 1) throw new FileFormatException(file, $"tensor '{entry.Name}' has 0 columns; vectors need at least one dimension", byteOffset: 8);
        if (entry.Shape[0] > int.MaxValue / entry.Shape[1])
            throw new FileFormatException(file, $"tensor '{entry.Name}' [{entry.Shape[0]}, {entry.Shape[1]}] has more than {int.MaxValue} values, too many for one matrix", byteOffset: 8);
        int count = (int)entry.Shape[0], dims = (int)entry.Shape[1];
        int rows = Math.Min(count, options.Limit ?? int.MaxValue);

        string role = Role(entry.Name);
        string[] keys;
        string keysSource = file;
        // A keys file named after a bare file (what convert writes) names its rows, before a tokenizer beside it.
        string? besideKeys = file == path && File.Exists(KeysFile.Beside(file)) ? KeysFile.Beside(file) : null;
        string? keysFile = options.KeysPath ?? besideKeys;
        if (keysFile is { } keysPath)
        {
            keys = NpyReader.ReadKeys(keysPath, count, rows, options.Utf8Errors);
            keysSource = keysPath;
        }
        else if (role is "wte" or "lm_head" && Tokenizer(Path.GetDirectoryName(Path.GetFullPath(file))!, count) is { } tokens)
        {
            keys = Enumerable.Range(0, rows).Select(tokens.Text).ToArray();
            keysSource = tokens.Source;
        }
        else
        {
            string prefix = role == "wpe" ? "pos:" : "";
            keys = Enumerable.Range(0, rows).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        var all = tensors.ReadFloat32(entry.Name);
        var matrix = rows == count ? all : all[..(rows * dims)];
        int bad = NonFinite.IndexOf(matrix);
        if (bad >= 0)
        {
            throw new FileFormatException(file, $"tensor '{entry.Name}' element [{bad / dims}, {bad % dims}] (row '{keys[bad / dims]}') is not finite; NaN and infinity are not allowed",
                byteOffset: tensors.DataStart + entry.Begin + (long)bad * (entry.End - entry.Begin) / entry.Count);
        }
        var index = keysFile is not null ? KeyDecoder.Index(keys, keysSource, r => (r + 1, null)) : UniqueIndex(keys, keysSource);
        return new KeyedVectors(keys, index, matrix, dims, owner: null);
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

    /// <summary>The names of the 2-D tensors of <paramref name="file"/>.</summary>
    static IEnumerable<string> MatrixNames(SafetensorsFile file) => file.Entries.Values.Where(e => e.Shape.Length == 2).Select(e => e.Name);

    /// <summary>Key → row for keys made from a tokenizer or from row numbers; two tokens with one text are the tokenizer's defect.</summary>
    static Dictionary<string, int> UniqueIndex(string[] keys, string source)
    {
        var index = new Dictionary<string, int>(keys.Length, StringComparer.Ordinal);
        for (int i = 0; i < keys.Length; i++)
        {
            if (!index.TryAdd(keys[i], i))
                throw new FileFormatException(source, $"tokens {index[keys[i]]} and {i} both read as '{keys[i]}'; keys must be unique — pass a keys file with --keys");
        }
        return index;
    }

    /// <summary>
    /// The entry <paramref name="wanted"/> names: exactly, or with the <c>.weight</c> suffix or the
    /// <c>transformer.</c> prefix that Hugging Face exports add (<c>wte</c> finds <c>transformer.wte.weight</c>).
    /// Without a name: wte if present, else the only 2-D tensor.
    /// </summary>
    static SafetensorsEntry FindTensor(SafetensorsFile file, string? wanted)
    {
        string name = wanted ?? "wte";
        foreach (string candidate in new[] { name, name + ".weight", Checkpoint.HuggingFacePrefix + name, Checkpoint.HuggingFacePrefix + name + ".weight" })
        {
            if (file.Entries.TryGetValue(candidate, out var entry)) return entry;
        }
        var matrices = MatrixNames(file).ToList();
        if (wanted is null && matrices.Count == 1) return file.Entries[matrices[0]];
        string listed = matrices.Count == 0 ? "it has no 2-D tensor" : $"its 2-D tensors: {string.Join(", ", matrices.Take(12))}{(matrices.Count > 12 ? $" and {matrices.Count - 12} more" : "")}";
        throw new FileFormatException(file.Path, wanted is null
            ? $"no tensor 'wte'; choose one with --tensor NAME ({listed})"
            : $"no tensor '{wanted}' ({listed})", byteOffset: 8);
    }

    /// <summary>"wte", "wpe", "lm_head" or the name itself, once the Hugging Face prefix and suffix are stripped.</summary>
    static string Role(string name)
    {
        name = Checkpoint.PlainName(name);
        if (name.EndsWith(".weight", StringComparison.Ordinal)) name = name[..^".weight".Length];
        return name;
    }

    /// <summary>The token texts of the tokenizer in <paramref name="dir"/>, or null when there is none for <paramref name="rows"/> rows.</summary>
    /// <exception cref="FileFormatException">The tokenizer found has another number of tokens than wte has rows.</exception>
    static (Func<int, string> Text, string Source)? Tokenizer(string dir, int rows)
    {
        var found = CheckpointTokenizer.Find(dir);
        if (found is null && rows == GptVocabularySize) found = (Gpt2BpeTokenizer.Create(), "GPT-2's vocabulary");
        if (found is not var (tokenizer, source)) return null;
        if (tokenizer.VocabSize != rows)
        {
            throw new FileFormatException(source, $"the tokenizer has {tokenizer.VocabSize} tokens but the tensor has {rows} rows; "
                + "is it the tokenizer of this model? (--keys FILE names the rows instead)");
        }
        return (tokenizer.TokenText, source);
    }

    const int GptVocabularySize = 50257;
}
