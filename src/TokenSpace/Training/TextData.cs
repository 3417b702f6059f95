using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;

namespace TokenSpace.Training;

/// <summary>How a corpus is cut into training examples.</summary>
public enum DataMode
{
    /// <summary>Each non-empty line is a document, trained as <c>[BOS] + chars + [BOS]</c> (microgpt's names).</summary>
    Lines,

    /// <summary>One token stream, trained on random windows (nanoGPT's shakespeare).</summary>
    Text,
}

/// <summary>A tokenized corpus: documents (each already wrapped in BOS) or one token stream.</summary>
public sealed class TextData
{
    TextData(DataMode mode, IReadOnlyList<int[]> documents, ReadOnlyMemory<int> stream)
    {
        Mode = mode;
        Documents = documents;
        Stream = stream;
    }

    public DataMode Mode { get; }

    /// <summary>Lines mode: every document as <c>[BOS] + ids + [BOS]</c>, untruncated.</summary>
    public IReadOnlyList<int[]> Documents { get; }

    /// <summary>Text mode: the whole corpus's ids (after <see cref="Split"/>, each part a slice of one array).</summary>
    public ReadOnlyMemory<int> Stream { get; }

    /// <summary>Tokens that will be predicted: per document its length − 1; for a stream its length − 1.</summary>
    public long PredictedTokens => Mode == DataMode.Lines ? Documents.Sum(d => (long)d.Length - 1) : Math.Max(0, Stream.Length - 1);

    /// <summary>Reads <paramref name="path"/> (UTF-8, see <see cref="Utf8Text.ReadAll"/>) and tokenizes it: running text through
    /// <see cref="ITokenizer.EncodeFile"/> (a character tokenizer streams it: the ids are all the memory it takes).</summary>
    /// <exception cref="FileFormatException">The file is not valid UTF-8 (unless <paramref name="replaceInvalidUtf8"/>), holds no document
    /// (lines) or fewer than 2 tokens (text), or a character is not in the vocabulary (names the line and column).</exception>
    public static TextData Load(string path, ITokenizer tokenizer, DataMode mode, bool replaceInvalidUtf8 = false) =>
        mode == DataMode.Text ? Streamed(tokenizer.EncodeFile(path, replaceInvalidUtf8), path)
            : FromText(Utf8Text.ReadAll(path, replaceInvalidUtf8), tokenizer, mode, path);

    /// <summary>
    /// Text mode through the token cache: tokenises <paramref name="path"/> once into a uint16
    /// <see cref="TokenFile"/> (named by the corpus and the tokenizer's fingerprint, so another corpus or
    /// vocabulary gets its own file) and reads it back, checking every id against the vocabulary.
    /// </summary>
    /// <exception cref="FileFormatException">The corpus is not valid UTF-8 (unless <paramref name="replaceInvalidUtf8"/>) or holds
    /// fewer than 2 tokens, or the cached token file is damaged (names it).</exception>
    /// <exception cref="ArgumentException">The tokenizer has no <see cref="ITokenizer.CacheKey"/>.</exception>
    public static TextData LoadCached(string path, ITokenizer tokenizer, string? cacheRoot = null, bool replaceInvalidUtf8 = false)
    {
        string name = tokenizer.CacheKey
            ?? throw new ArgumentException($"a {tokenizer.Kind} tokenizer has no cache key", nameof(tokenizer));
        if (!replaceInvalidUtf8) Utf8Text.Check(path);
        using var tokens = TokenFile.Open(TokenFile.Prepare(tokenizer, name, path, cacheRoot));
        if (tokens.Count == 0 && new FileInfo(path).Length > 0)
            throw new FileFormatException(tokens.Path,
                $"the cached token file of {path} is empty, though the corpus is not; delete it and it is made again");
        if (tokens.Count < 2) throw new FileFormatException(path,
            $"the corpus has {tokens.Count} tokens; training on text needs at least 2");
        return FromTokenFile(tokens, tokenizer.VocabSize);
    }

    /// <summary>A token stream (text mode): the whole of <paramref name="tokens"/>, read into memory.</summary>
    /// <exception cref="FileFormatException">The file holds fewer than 2 tokens, or an id of <paramref name="vocabSize"/> or
    /// more.</exception>
    public static TextData FromTokenFile(TokenFile tokens, int vocabSize)
    {
        if (tokens.Count < 2) throw new FileFormatException(tokens.Path,
            $"the token file holds {tokens.Count} tokens; training on text needs at least 2");
        if (tokens.Count > Array.MaxLength) throw new FileFormatException(tokens.Path,
            $"the token file holds {tokens.Count} tokens, more than one array can hold");
        var ids = new int[tokens.Count];
        tokens.Read(0, ids);
        int bad = ids.AsSpan().IndexOfAnyInRange(vocabSize, int.MaxValue);
        if (bad >= 0)
        {
            throw new FileFormatException(tokens.Path,
                $"token {bad} is id {ids[bad]}, outside the vocabulary of {vocabSize}; the file is damaged or was made by another " +
                    "tokenizer (a cached file may be deleted: it is made again)",
                byteOffset: 2L * bad);
        }
        return FromIds(ids);
    }

    /// <summary>
    /// The mode of a model saved without its training options (a Hugging Face folder): lines when the vocabulary
    /// cannot encode a line break (it was built from one document per line), running text otherwise.
    /// </summary>
    public static DataMode DefaultMode(ITokenizer tokenizer) => tokenizer.CanEncode("\n") ? DataMode.Text : DataMode.Lines;

    /// <summary>A token stream (text mode) of these ids, not copied.</summary>
    public static TextData FromIds(int[] ids) => new(DataMode.Text, [], ids);

    /// <summary>Tokenizes <paramref name="text"/>; <paramref name="source"/> names it in errors.</summary>
    /// <remarks>
    /// Lines mode wraps each document in <see cref="ITokenizer.DocumentSeparator"/> (BOS, or GPT-2's
    /// <c>&lt;|endoftext|&gt;</c>). A character the tokenizer cannot encode is reported with its line and column.
    /// </remarks>
    /// <exception cref="FileFormatException">As <see cref="Load"/>.</exception>
    public static TextData FromText(string text, ITokenizer tokenizer, DataMode mode, string source)
    {
        if (mode == DataMode.Text) return Streamed(tokenizer.Encode(text, source, line: 1), source);
        var docs = new List<int[]>();
        int separator = tokenizer.DocumentSeparator;
        int line = 0;
        foreach (string raw in text.Split('\n'))
        {
            line++;
            string doc = raw.TrimEnd('\r').Trim();
            if (doc.Length == 0) continue;
            var ids = tokenizer.Encode(doc, source, line);
            var wrapped = new int[ids.Length + 2];
            wrapped[0] = wrapped[^1] = separator;
            ids.CopyTo(wrapped, 1);
            docs.Add(wrapped);
        }
        if (docs.Count == 0) throw new FileFormatException(source, "the corpus has no documents (every line is empty)");
        return new TextData(mode, docs, default);
    }

    static TextData Streamed(int[] stream, string source) => stream.Length >= 2 ? FromIds(stream)
        : throw new FileFormatException(source, $"the corpus has {stream.Length} tokens; training on text needs at least 2");

    /// <summary>
    /// Splits off a validation set: in lines mode a seeded random 10 % of the documents (at least one),
    /// the rest shuffled by the same seed as the training order; in text mode the last 10 % of the stream
    /// (nanoGPT's split), so no window straddles both.
    /// </summary>
    /// <exception cref="ArgumentException">Too little data to split (fewer than 2 documents, or 20 tokens).</exception>
    public (TextData Train, TextData Validation) Split(ulong seed)
    {
        if (Mode == DataMode.Text)
        {
            if (Stream.Length < 20) throw new ArgumentException($"the corpus has {Stream.Length} tokens, too few to split off 10 % for " +
                "validation; give validation data of their own");
            int cut = Stream.Length - Stream.Length / 10;
            // Slices, not copies: the corpus's ids are held once.
            return (new TextData(Mode, [], Stream[..cut]), new TextData(Mode, [], Stream[cut..]));
        }
        if (Documents.Count < 2) throw new ArgumentException($"the corpus has {Documents.Count} document, too few to split off 10 % for " +
            "validation; give validation data of their own");
        var order = Shuffled(seed);
        int val = Math.Max(1, Documents.Count / 10);
        return (new TextData(Mode, order.Skip(val).ToList(), default), new TextData(Mode, order.Take(val).ToList(), default));
    }

    /// <summary>The documents in a seeded Fisher–Yates order (lines mode).</summary>
    public TextData Shuffle(ulong seed) => new(Mode, Shuffled(seed), Stream);

    List<int[]> Shuffled(ulong seed)
    {
        var rng = new Rng(seed);
        var list = Documents.ToList();
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }
}
