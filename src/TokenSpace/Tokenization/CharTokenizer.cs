using System.Text;
using System.Text.Json;
using TokenSpace.IO;

namespace TokenSpace.Tokenization;

/// <summary>
/// microgpt's character tokenizer: the sorted distinct characters of a corpus get ids 0..n−1 and a
/// beginning-of-sequence token gets id n. Characters are UTF-16 code units compared ordinally.
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    readonly char[] vocab;
    readonly Dictionary<char, int> ids;

    CharTokenizer(char[] vocab)
    {
        this.vocab = vocab;
        ids = new Dictionary<char, int>(vocab.Length);
        for (int i = 0; i < vocab.Length; i++) ids.Add(vocab[i], i);
    }

    /// <summary>The characters in id order.</summary>
    public IReadOnlyList<char> Vocab => vocab;

    /// <summary>n + 1: the characters plus BOS.</summary>
    public int VocabSize => vocab.Length + 1;

    /// <summary>The BOS id, n (one past the last character).</summary>
    public int BosId => vocab.Length;

    /// <inheritdoc/>
    public string Kind => "char";

    /// <summary>BOS: documents (lines) are wrapped in it.</summary>
    public int DocumentSeparator => BosId;

    /// <summary>A line break when the vocabulary has one (it was built from running text), else BOS.</summary>
    public int[] TextStart => ids.TryGetValue('\n', out int newline) ? [newline] : [BosId];

    /// <summary>Null: encoding characters is a lookup each, not worth a cache.</summary>
    public string? CacheKey => null;

    /// <inheritdoc/>
    public bool CanEncode(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (!ids.ContainsKey(c)) return false;
        }
        return true;
    }

    /// <summary>Builds the vocabulary of <paramref name="text"/>, leaving out line breaks (they separate documents).</summary>
    /// <exception cref="ArgumentException">The text has no characters besides line breaks.</exception>
    public static CharTokenizer Train(string text)
    {
        var set = new SortedSet<char>(text.Where(c => c is not ('\n' or '\r')), Comparer<char>.Create((a, b) => a.CompareTo(b)));
        if (set.Count == 0) throw new ArgumentException("cannot build a character vocabulary from an empty corpus");
        return new CharTokenizer([.. set]);
    }

    /// <summary>Builds the vocabulary of a text stream, line breaks included (they are ordinary characters there).</summary>
    /// <exception cref="ArgumentException">The text is empty.</exception>
    public static CharTokenizer TrainStream(string text)
    {
        if (text.Length == 0) throw new ArgumentException("cannot build a character vocabulary from an empty corpus");
        return new CharTokenizer([.. text.Distinct().Order()]);
    }

    /// <summary>A tokenizer over exactly these characters (in id order).</summary>
    /// <exception cref="ArgumentException">A character is repeated.</exception>
    public static CharTokenizer FromVocab(IEnumerable<char> characters)
    {
        var list = characters.ToArray();
        if (list.Distinct().Count() != list.Length) throw new ArgumentException("the vocabulary repeats a character");
        return new CharTokenizer(list);
    }

    /// <summary>The ids of <paramref name="text"/>'s characters (no BOS added).</summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary; the message names it and its index.</exception>
    public int[] Encode(string text) => Encode(text, source: null, line: 0);

    /// <inheritdoc cref="Encode(string)"/>
    public int[] EncodeToIds(ReadOnlySpan<char> text) => Encode(text, source: null, line: 0);

    /// <summary>One token per character, its id and offset (no BOS added).</summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary.</exception>
    public Token[] EncodeToTokens(ReadOnlySpan<char> text)
    {
        var ids = EncodeToIds(text);
        var tokens = new Token[ids.Length];
        for (int i = 0; i < ids.Length; i++) tokens[i] = new Token(ids[i], vocab[ids[i]].ToString(), i, 1);
        return tokens;
    }

    /// <summary>
    /// As <see cref="Encode(string)"/>, naming <paramref name="source"/>, the line (counted from <paramref name="line"/>,
    /// the 1-based line <paramref name="text"/> starts at) and the column in the error.
    /// </summary>
    /// <exception cref="FileFormatException">A character is not in the vocabulary (when a source is named).</exception>
    public int[] Encode(ReadOnlySpan<char> text, string? source, long line)
    {
        var result = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (ids.TryGetValue(text[i], out result[i])) continue;
            int lineStart = text[..i].LastIndexOf('\n') + 1;
            string cause = $"character {Describe(text[i])} at column {i - lineStart + 1} is not in the tokenizer's vocabulary of "
                + $"{vocab.Length} characters";
            if (source is null) throw new ArgumentException(cause, nameof(text));
            throw new FileFormatException(source, cause, line: line + text[..lineStart].Count('\n'));
        }
        return result;
    }

    /// <summary>The text of <paramref name="ids"/>; BOS decodes to nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id outside [0, VocabSize).</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id > (uint)vocab.Length) throw new ArgumentOutOfRangeException(nameof(ids), id,
                $"token id {id} is outside [0, {VocabSize})");
            if (id != BosId) sb.Append(vocab[id]);
        }
        return sb.ToString();
    }

    /// <summary>The text of one token id: its character, or <c>&lt;BOS&gt;</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is outside [0, VocabSize).</exception>
    public string TokenText(int id)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)id, (uint)vocab.Length, nameof(id));
        return id == BosId ? "<BOS>" : vocab[id].ToString();
    }

    /// <summary>Writes <see cref="ITokenizer.FileName"/> into <paramref name="dir"/> as <see cref="Save"/> does.</summary>
    public void SaveInto(string dir) => Save(Path.Combine(dir, ITokenizer.FileName));

    /// <summary>Writes <c>{"type": "char", "vocab": [...], "bos_id": n}</c> atomically.</summary>
    public void Save(string path)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["type"] = Kind,
            ["vocab"] = vocab.Select(c => c.ToString()).ToArray(),
            ["bos_id"] = BosId,
        });
        AtomicFile.WriteAllText(path, json + "\n");
    }

    /// <summary>Reads a tokenizer.json written by <see cref="Save"/>.</summary>
    /// <exception cref="FileFormatException">Not JSON, not of type "char", a vocabulary entry that is not one character, or bos_id ≠
    /// n.</exception>
    public static CharTokenizer Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            string? type = root.GetProperty("type").GetString();
            if (type != "char") throw new FileFormatException(path, $"tokenizer type is '{type}', expected 'char'");
            var chars = new List<char>();
            foreach (var e in root.GetProperty("vocab").EnumerateArray())
            {
                string s = e.GetString() ?? "";
                if (s.Length != 1) throw new FileFormatException(path,
                    $"vocab entry {chars.Count} is \"{s}\"; each entry must be one character");
                chars.Add(s[0]);
            }
            int bos = root.GetProperty("bos_id").GetInt32();
            if (bos != chars.Count) throw new FileFormatException(path,
                $"bos_id is {bos}, expected {chars.Count} (one past the characters)");
            if (chars.Distinct().Count() != chars.Count) throw new FileFormatException(path, "the vocabulary repeats a character");
            return new CharTokenizer([.. chars]);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FileFormatException(path, $"not a character tokenizer.json: {e.Message}", inner: e);
        }
    }

    static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}' (U+{(int)c:X4})";
}
