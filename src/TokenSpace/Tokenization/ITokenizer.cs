namespace TokenSpace.Tokenization;

// What a tokenizer promises:
// - ids are in [0, VocabSize);
// - EncodeToIds and EncodeToTokens give the same ids for the same text, and Decode(EncodeToIds(x)) == x
//   for every well-formed string x it can encode (GPT-2's BPE encodes every string; a lone UTF-16
//   surrogate comes back as U+FFFD);
// - the tokens' [Start, Start + Length) character ranges tile the text: they are contiguous, in order,
//   and their lengths sum to the text's length (a character split across byte-level tokens belongs to
//   the token holding its first byte; a token holding only the rest of it has Length 0);
// - Encode(reader, sink) hands over the same ids as EncodeToIds on the whole text, in order.
// Strings convert implicitly to ReadOnlySpan<char>, so every method takes a string too.

/// <summary>Turns text into token ids and back, and saves itself beside a model.</summary>
public interface ITokenizer
{
    /// <summary>The file a tokenizer saves itself as in a directory (<see cref="SaveInto"/>).</summary>
    const string FileName = "tokenizer.json";

    /// <summary>Number of distinct ids: every id is in [0, VocabSize).</summary>
    int VocabSize { get; }

    /// <summary>The kind recorded as <c>"type"</c> in <see cref="FileName"/>: <c>char</c> or <c>gpt2</c>.</summary>
    string Kind { get; }

    /// <summary>The id that separates documents: a character vocabulary's BOS, GPT-2's <c>&lt;|endoftext|&gt;</c>.</summary>
    int DocumentSeparator { get; }

    /// <summary>The ids an unprompted sample of running text starts from.</summary>
    int[] TextStart { get; }

    /// <summary>
    /// A fingerprint of the vocabulary that names cached encodings of a corpus, or null when encoding is cheap enough
    /// to redo every time.
    /// </summary>
    string? CacheKey { get; }

    /// <summary>The ids of <paramref name="text"/>.</summary>
    int[] EncodeToIds(ReadOnlySpan<char> text);

    /// <summary>
    /// The ids of <paramref name="text"/>, which starts at 1-based <paramref name="line"/> of <paramref name="source"/>:
    /// a character the tokenizer cannot encode is a <see cref="IO.FileFormatException"/> naming that file, line and column
    /// (an <see cref="ArgumentException"/> when <paramref name="source"/> is null).
    /// </summary>
    int[] Encode(ReadOnlySpan<char> text, string? source, long line) => EncodeToIds(text);

    /// <summary>
    /// The ids of the UTF-8 file <paramref name="path"/>'s text (<see cref="Utf8Text.ReadAll"/>), errors located as
    /// <see cref="Encode(ReadOnlySpan{char}, string?, long)"/> locates them. This default reads the whole text first; a
    /// tokenizer may stream it.
    /// </summary>
    int[] EncodeFile(string path, bool replaceInvalidUtf8) => Encode(Utf8Text.ReadAll(path, replaceInvalidUtf8), path, line: 1);

    /// <summary>Whether every character of <paramref name="text"/> has a token.</summary>
    bool CanEncode(ReadOnlySpan<char> text) => true;

    /// <summary>The tokens of <paramref name="text"/> with their character offsets.</summary>
    Token[] EncodeToTokens(ReadOnlySpan<char> text);

    /// <summary>The text of <paramref name="ids"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, VocabSize).</exception>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>The text of one token as a person reads it, different for every id (a key in a vectors file).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is outside [0, VocabSize).</exception>
    string TokenText(int id);

    /// <summary>
    /// Encodes everything <paramref name="reader"/> holds, handing the ids to <paramref name="sink"/> in
    /// order (in one or more calls). Implementations may stream and use several threads; this default
    /// reads the whole text first.
    /// </summary>
    void Encode(TextReader reader, Action<ReadOnlySpan<int>> sink) => sink(EncodeToIds(reader.ReadToEnd()));

    /// <summary>
    /// Writes <see cref="FileName"/> (<c>{"type": Kind, …}</c>) and any files it names into <paramref name="dir"/>,
    /// atomically, so that a loader of that kind reads an equal tokenizer back.
    /// </summary>
    void SaveInto(string dir);
}

/// <summary>One token of a text: its id, its text, and the characters of the input it covers.</summary>
/// <param name="Id">The token id.</param>
/// <param name="Value">The token's own text (for a byte-level token holding part of a character, U+FFFD).</param>
/// <param name="Start">Index of the first input character the token covers.</param>
/// <param name="Length">Number of input characters the token covers.</param>
public readonly record struct Token(int Id, string Value, int Start, int Length);
