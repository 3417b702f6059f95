using System.Text.Json;
using TokenSpace.IO;
using TokenSpace.Tokenization;

namespace TokenSpace.Formats;

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
    /// <summary>Reads the tokenizer of the checkpoint or Hugging Face GPT-2 directory <paramref name="dir"/>.</summary>
    /// <exception cref="FileNotFoundException">The directory holds no tokenizer.</exception>
    /// <exception cref="FileFormatException">A tokenizer file is malformed or of an unknown type.</exception>
    public static ITokenizer Load(string dir) => Find(dir)?.Tokenizer ?? throw new FileNotFoundException(
        $"{dir} holds no tokenizer: expected {Checkpoint.TokenizerFile} (written with the model by Checkpoint.Save) or " +
            $"{Gpt2BpeTokenizer.VocabFile} + {Gpt2BpeTokenizer.MergesFile} (a Hugging Face GPT-2 folder)",
        Path.Combine(dir, Checkpoint.TokenizerFile));

    /// <summary>The tokenizer of <paramref name="dir"/> (as <see cref="Load"/> reads it) and the file it came from, or null when there is
    /// none.</summary>
    /// <exception cref="FileFormatException">A tokenizer file is malformed or of an unknown type.</exception>
    public static (ITokenizer Tokenizer, string Source)? Find(string dir)
    {
        string json = Path.Combine(dir, Checkpoint.TokenizerFile);
        string vocabulary = Path.Combine(dir, Gpt2BpeTokenizer.VocabFile), merges = Path.Combine(dir, Gpt2BpeTokenizer.MergesFile);
        string? type = File.Exists(json) ? ReadType(json) : null;
        return type switch
        {
            "char" => (CharTokenizer.Load(json), json),
            "gpt2" => (Gpt2BpeTokenizer.FromHuggingFace(vocabulary, merges), vocabulary),
            null when File.Exists(vocabulary) && File.Exists(merges) => (Gpt2BpeTokenizer.FromHuggingFace(vocabulary, merges), vocabulary),
            null => null,
            _ => throw new FileFormatException(json, $"tokenizer type '{type}' is not known; expected 'char' or 'gpt2'"),
        };
    }

    // Our tokenizer.json has a string "type" at its root; Hugging Face's has none (its "model" holds the BPE).
    static string? ReadType(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("type", out var t)
                && t.ValueKind == JsonValueKind.String
                ? t.GetString()
                : null;
        }
        catch (JsonException e)
        {
            throw new FileFormatException(path, $"not JSON: {e.Message}", (e.LineNumber ?? 0) + 1, inner: e);
        }
    }
}
