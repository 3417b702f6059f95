using System.Globalization;
using System.Text.Json;
using TokenSpace.IO;
using TokenSpace.Tokenization;

namespace TokenSpace.Formats;

/// <summary>
/// Keys for the rows of a large model's embedding from the Hugging Face <c>tokenizer.json</c> beside it: its
/// <c>model.vocab</c> (an object piece → id for BPE and WordPiece, an array of [piece, score] for Unigram) and its
/// <c>added_tokens</c> (id, content), id → piece. Pieces are shown readably, as the tokenizer's decoder would
/// print each one alone:
/// <list type="bullet">
/// <item>a <c>ByteLevel</c> decoder (GPT-2, Llama 3, Qwen): each character stands for a byte (<c>Ġthe</c> → <c>" the"</c>,
/// <c>Ċ</c> → newline), the bytes read as UTF-8; a byte that is only part of a character shows as <c>&lt;0xE6&gt;</c>
/// (Hugging Face's decoder would print U+FFFD, which would make many keys alike);</item>
/// <item>a <c>Metaspace</c> decoder or one that replaces <c>▁</c> (SentencePiece: Llama 2, Mistral): <c>▁the</c> → <c>" the"</c>;</item>
/// <item>otherwise, and for added tokens (<c>&lt;|begin_of_text|&gt;</c>), the piece as written.</item>
/// </list>
/// Rows no token names (an embedding padded beyond the vocabulary) are keyed <c>&lt;row N&gt;</c>.
/// </summary>
static class TokenizerJsonKeys
{
    /// <summary>
    /// The key of each of <paramref name="rows"/> rows, or null when <paramref name="path"/> is not a Hugging Face
    /// tokenizer (no <c>model.vocab</c>).
    /// </summary>
    /// <exception cref="FileFormatException">Not JSON, a malformed vocabulary, or a token id outside the rows.</exception>
    public static string[]? Read(string path, int rows)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new FileFormatException(path, $"not JSON: {e.Message}", (e.LineNumber ?? 0) + 1, inner: e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model)
                || model.ValueKind != JsonValueKind.Object
                || !model.TryGetProperty("vocab", out var vocab))
            {
                return null;
            }
            var keys = new string?[rows];
            Func<string, string> show = Display(root.TryGetProperty("decoder", out var decoder) ? decoder : default);
            if (vocab.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in vocab.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id)) throw Bad(path,
                        $"model.vocab '{p.Name}' must map to an integer id");
                    Set(keys, id, show(p.Name), path);
                }
            }
            else if (vocab.ValueKind == JsonValueKind.Array)
            {
                int id = 0;
                foreach (var e in vocab.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() < 1 || e[0].ValueKind != JsonValueKind.String)
                        throw Bad(path, $"model.vocab entry {id} must be [piece, score]");
                    Set(keys, id++, show(e[0].GetString()!), path);
                }
            }
            else
            {
                throw Bad(path, "model.vocab must be an object (piece → id) or an array of [piece, score]");
            }
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var t in added.EnumerateArray())
                {
                    if (t.ValueKind != JsonValueKind.Object || !t.TryGetProperty("id", out var id) || !id.TryGetInt32(out int i)
                        || !t.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                    {
                        throw Bad(path, "each added_tokens entry needs an integer \"id\" and a string \"content\"");
                    }
                    keys[Check(i, keys.Length, content.GetString()!, path)] = content.GetString()!;
                }
            }
            return keys.Select((k, i) => k ?? $"<row {i.ToString(CultureInfo.InvariantCulture)}>").ToArray();
        }
    }

    static void Set(string?[] keys, int id, string text, string path) => keys[Check(id, keys.Length, text, path)] = text;

    static int Check(int id, int rows, string text, string path) => id >= 0 && id < rows ? id
        : throw Bad(path, $"token '{text}' has id {id}, outside the embedding's {rows} rows; is it the tokenizer of this model?");

    /// <summary>How the decoder would show a piece alone (see the class summary).</summary>
    static Func<string, string> Display(JsonElement decoder)
    {
        var types = new List<(string Type, JsonElement Element)>();
        void Collect(JsonElement d)
        {
            if (d.ValueKind != JsonValueKind.Object || !d.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String) return;
            types.Add((t.GetString()!, d));
            if (d.TryGetProperty("decoders", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var inner in list.EnumerateArray()) Collect(inner);
            }
        }
        Collect(decoder);
        if (types.Any(t => t.Type == "ByteLevel")) return ByteLevelText;
        bool metaspace = types.Any(t => t.Type == "Metaspace" || (t.Type == "Replace" && t.Element.TryGetProperty("pattern", out var p)
            && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("String", out var s) && s.ValueKind == JsonValueKind.String
                && s.GetString() == "▁"));
        return metaspace ? piece => piece.Replace('▁', ' ') : piece => piece;
    }

    /// <summary>A byte-level piece as text (<c>Ġthe</c> → <c>" the"</c>); a piece with a character outside the byte table stays as
    /// written.</summary>
    static string ByteLevelText(string piece)
    {
        var bytes = new byte[piece.Length];
        for (int i = 0; i < piece.Length; i++)
        {
            int b = ByteLevel.CharToByte(piece[i]);
            if (b < 0) return piece;
            bytes[i] = (byte)b;
        }
        return ByteLevel.Readable(bytes);
    }

    static FileFormatException Bad(string path, string cause) => new(path, cause);
}
