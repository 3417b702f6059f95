using System.Text.Json;
using System.Text.Json.Nodes;
using TokenSpace.Formats;
using TokenSpace.Tokenization;

namespace TokenSpace.Training;

/// <summary>
/// The tokenizer of a checkpoint directory. A character tokenizer is <c>tokenizer.json</c> of type
/// <c>char</c>. GPT-2's BPE is <c>tokenizer.json</c> <c>{"type": "gpt2", ...}</c> plus its two vocabulary
/// files written beside it under Hugging Face's names, <c>vocab.json</c> and <c>merges.txt</c>, so the
/// directory is complete on its own and reads as a Hugging Face GPT-2 folder. A Hugging Face folder
/// (its <c>tokenizer.json</c>, if any, is Hugging Face's own format, without our <c>type</c>) is read from
/// <c>vocab.json</c> + <c>merges.txt</c>.
/// </summary>
public static class CheckpointTokenizer
{
    /// <summary>Hugging Face's name for GPT-2's symbol → id file (OpenAI's encoder.json).</summary>
    public const string VocabFile = "vocab.json";

    /// <summary>Hugging Face's name for GPT-2's merges (OpenAI's vocab.bpe).</summary>
    public const string MergesFile = "merges.txt";

    /// <summary>Writes <paramref name="tokenizer"/> into the directory <paramref name="dir"/>.</summary>
    /// <exception cref="ArgumentException">A tokenizer of a kind checkpoints cannot hold.</exception>
    public static void Save(string dir, ITokenizer tokenizer)
    {
        string json = Path.Combine(dir, Checkpoint.TokenizerFile);
        switch (tokenizer)
        {
            case CharTokenizer chars:
                chars.Save(json);
                break;
            case Gpt2BpeTokenizer bpe:
                bpe.SaveHuggingFace(Path.Combine(dir, VocabFile), Path.Combine(dir, MergesFile));
                var node = new JsonObject { ["type"] = "gpt2", ["vocab_size"] = bpe.VocabSize, ["vocab"] = VocabFile, ["merges"] = MergesFile };
                AtomicFile.WriteAllText(json, node.ToJsonString() + "\n");
                break;
            default:
                throw new ArgumentException($"a checkpoint cannot store a tokenizer of type {tokenizer.GetType().Name}", nameof(tokenizer));
        }
    }

    /// <summary>Reads the tokenizer of the checkpoint or Hugging Face GPT-2 directory <paramref name="dir"/>.</summary>
    /// <exception cref="FileNotFoundException">The directory holds no tokenizer.</exception>
    /// <exception cref="FileFormatException">A tokenizer file is malformed or of an unknown type.</exception>
    public static ITokenizer Load(string dir)
    {
        string json = Path.Combine(dir, Checkpoint.TokenizerFile);
        string vocabulary = Path.Combine(dir, VocabFile), merges = Path.Combine(dir, MergesFile);
        string? type = File.Exists(json) ? ReadType(json) : null;
        switch (type)
        {
            case "char":
                return CharTokenizer.Load(json);
            case "gpt2":
                return Gpt2BpeTokenizer.FromHuggingFace(vocabulary, merges);
            case null when File.Exists(vocabulary) && File.Exists(merges):
                return Gpt2BpeTokenizer.FromHuggingFace(vocabulary, merges);
            case null:
                throw new FileNotFoundException(
                    $"{dir} holds no tokenizer: expected {Checkpoint.TokenizerFile} (written by `tokenspace train`) or {VocabFile} + {MergesFile} (a Hugging Face GPT-2 folder)", json);
            default:
                throw new FileFormatException(json, $"tokenizer type '{type}' is not known; expected 'char' or 'gpt2'");
        }
    }

    /// <summary>
    /// The id that wraps documents in lines mode: the character tokenizer's BOS, GPT-2's <c>&lt;|endoftext|&gt;</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The tokenizer has no such token.</exception>
    public static int DocumentSeparator(ITokenizer tokenizer) => tokenizer switch
    {
        CharTokenizer chars => chars.BosId,
        Gpt2BpeTokenizer bpe => bpe.EndOfTextId,
        _ => throw new ArgumentException($"a {tokenizer.GetType().Name} has no document separator for lines mode"),
    };

    // Our tokenizer.json has a string "type" at its root; Hugging Face's has none (its "model" holds the BPE).
    static string? ReadType(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                ? t.GetString()
                : null;
        }
        catch (JsonException e)
        {
            throw new FileFormatException(path, $"not JSON: {e.Message}", (e.LineNumber ?? 0) + 1, inner: e);
        }
    }
}
