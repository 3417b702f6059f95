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
        return new CharTokenizer(Distinct(text));
    }

    /// <summary>
    /// The distinct characters of the UTF-8 file <paramref name="path"/> in ordinal order (what <see cref="TrainStream"/> of its text
    /// holds), read piece by piece: the text is never held whole.
    /// </summary>
    /// <exception cref="FileFormatException">The file is not valid UTF-8 (unless <paramref name="replaceInvalidUtf8"/>).</exception>
    public static char[] CharactersOf(string path, bool replaceInvalidUtf8 = false)
    {
        var seen = new bool[char.MaxValue + 1];
        Utf8Text.ReadPieces(path, replaceInvalidUtf8, piece =>
        {
            foreach (char c in piece) seen[c] = true;
        });
        return Seen(seen);
    }

    static char[] Distinct(ReadOnlySpan<char> text)
    {
        var seen = new bool[char.MaxValue + 1];
        foreach (char c in text) seen[c] = true;
        return Seen(seen);
    }

    static char[] Seen(bool[] seen) => Enumerable.Range(0, seen.Length).Where(c => seen[c]).Select(c => (char)c).ToArray();

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
        int bad = EncodeInto(text, result);
        if (bad < 0) return result;
        int lineStart = text[..bad].LastIndexOf('\n') + 1;
        string cause = NotInVocabulary(text[bad], bad - lineStart + 1);
        if (source is null) throw new ArgumentException(cause, nameof(text));
        throw new FileFormatException(source, cause, line: line + text[..lineStart].Count('\n'));
    }

    /// <summary>
    /// The ids of the UTF-8 file <paramref name="path"/>'s text, decoded and encoded piece by piece into one array: the text is
    /// never held whole, so the ids are all the memory it takes (4 bytes a character).
    /// </summary>
    /// <exception cref="FileFormatException">The file is not valid UTF-8 (unless <paramref name="replaceInvalidUtf8"/>), holds more
    /// characters than one array, or a character is not in the vocabulary (names the line and column).</exception>
    public int[] EncodeFile(string path, bool replaceInvalidUtf8 = false)
    {
        long count = 0;
        Utf8Text.ReadPieces(path, replaceInvalidUtf8, piece => count += piece.Length);
        if (count > Array.MaxLength) throw new FileFormatException(path, $"the text has {count} characters, more than one array holds");
        var result = new int[count];
        int at = 0;
        long line = 1, column = 0; // column: the characters since the last line break, before the piece
        Utf8Text.ReadPieces(path, replaceInvalidUtf8, piece =>
        {
            if (piece.Length > result.Length - at) throw new FileFormatException(path, "the file grew while it was read");
            int bad = EncodeInto(piece, result.AsSpan(at));
            if (bad >= 0)
            {
                var before = piece[..bad];
                int lineStart = before.LastIndexOf('\n') + 1;
                throw new FileFormatException(path, NotInVocabulary(piece[bad], lineStart == 0 ? column + bad + 1 : bad - lineStart + 1),
                    line: line + before.Count('\n'));
            }
            line += piece.Count('\n');
            int last = piece.LastIndexOf('\n');
            column = last < 0 ? column + piece.Length : piece.Length - last - 1;
            at += piece.Length;
        });
        if (at != result.Length) throw new FileFormatException(path, "the file changed while it was read");
        return result;
    }

    /// <summary>The ids of <paramref name="text"/> into <paramref name="destination"/>; the index of the first character not in the
    /// vocabulary, or -1.</summary>
    int EncodeInto(ReadOnlySpan<char> text, Span<int> destination)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (!ids.TryGetValue(text[i], out destination[i])) return i;
        }
        return -1;
    }

    string NotInVocabulary(char c, long column) =>
        $"character {Describe(c)} at column {column} is not in the tokenizer's vocabulary of {vocab.Length} characters";

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
