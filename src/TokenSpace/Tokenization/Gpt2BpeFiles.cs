using System.Text;
using System.Text.Json;
using TokenSpace.IO;

namespace TokenSpace.Tokenization;

/// <summary>
/// Reads GPT-2's two vocabulary files: the symbol → id map (<c>encoder.json</c>, Hugging Face
/// <c>vocab.json</c>) and the merges in rank order (<c>vocab.bpe</c>, <c>merges.txt</c>). Every problem
/// is a <see cref="FileFormatException"/> naming the file and line.
/// </summary>
internal static class Gpt2BpeFiles
{
    /// <summary>Reads the symbol → id map; ids must be exactly 0..count-1, each once.</summary>
    public static Dictionary<string, int> ReadVocabulary(string path)
    {
        byte[] json = ReadAllBytes(path);
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var offsets = new List<long>(); // byte offset of each entry, in file order, for error messages
        int bom = json.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        var reader = new Utf8JsonReader(json.AsSpan(bom), new JsonReaderOptions { AllowTrailingCommas = true });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Error(path, json, bom + reader.TokenStartIndex, "expected a JSON object of symbol → id");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string symbol = reader.GetString()!;
                long at = bom + reader.TokenStartIndex;
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int id) || id < 0)
                {
                    throw Error(path, json, bom + reader.TokenStartIndex, $"the id of \"{symbol}\" is not a non-negative integer");
                }
                if (!vocabulary.TryAdd(symbol, id)) throw Error(path, json, at, $"symbol \"{symbol}\" appears twice");
                offsets.Add(at);
            }
            if (reader.TokenType != JsonTokenType.EndObject) throw Error(path, json, bom + reader.TokenStartIndex,
                "expected \"symbol\": id or the closing }");
            reader.Read(); // trailing content after the object is a JsonException
        }
        catch (JsonException e)
        {
            throw new FileFormatException(path, $"invalid JSON: {e.Message}", (e.LineNumber ?? 0) + 1, inner: e);
        }

        var seen = new bool[vocabulary.Count];
        int entry = 0;
        foreach (var (symbol, id) in vocabulary) // in file order: nothing was removed
        {
            if (id >= seen.Length || seen[id])
            {
                throw Error(path, json, offsets[entry],
                    $"id {id} of \"{symbol}\" is {(id >= seen.Length ? "out of range" : "used twice")}; ids must be " +
                        $"0..{seen.Length - 1}, " +
                    "each once");
            }
            seen[id] = true;
            entry++;
        }
        return vocabulary;
    }

    /// <summary>
    /// Reads the merges as (left, right) symbol pairs in rank order. A first line starting with
    /// <c>#</c> (<c>#version: 0.2</c>) and blank lines are skipped.
    /// </summary>
    public static List<(string Left, string Right, int Line)> ReadMerges(string path)
    {
        var merges = new List<(string, string, int)>();
        int lineNumber = 0;
        using var reader = new StreamReader(Open(path), Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith('#'))) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
            {
                throw new FileFormatException(path, $"expected two symbols separated by one space, found \"{line}\"", lineNumber);
            }
            merges.Add((line[..space], line[(space + 1)..], lineNumber));
        }
        if (merges.Count == 0) throw new FileFormatException(path, "no merges found; is this GPT-2's vocab.bpe / merges.txt?", lineNumber);
        return merges;
    }

    static byte[] ReadAllBytes(string path)
    {
        using var stream = Open(path);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    static FileStream Open(string path)
    {
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileFormatException(path, "the file does not exist", inner: e);
        }
    }

    static FileFormatException Error(string path, byte[] json, long offset, string cause)
    {
        int line = 1 + json.AsSpan(0, (int)Math.Min(offset, json.Length)).Count((byte)'\n');
        return new FileFormatException(path, $"{cause} (byte {offset})", line);
    }
}
