using System.Buffers;
using System.Text;
using System.Text.Unicode;
using TokenSpace.IO;

namespace TokenSpace.Tokenization;

/// <summary>
/// Reads text that is to be tokenised. Invalid UTF-8 is an error naming its byte offset, never silently turned
/// into U+FFFD (which would train the model on characters the corpus does not hold), unless the caller asks.
/// </summary>
public static class Utf8Text
{
    /// <summary>
    /// The text of <paramref name="path"/> (a UTF-8 byte-order mark is skipped). With <paramref name="replaceInvalid"/>
    /// each invalid sequence becomes U+FFFD, as <see cref="File.ReadAllText(string)"/> does.
    /// </summary>
    /// <exception cref="FileFormatException">The file is not valid UTF-8 (names the byte offset of the first bad sequence).</exception>
    public static string ReadAll(string path, bool replaceInvalid = false)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        if (!replaceInvalid && FirstInvalid(bytes.AsSpan(start), isFinalBlock: true) is var bad and >= 0) throw Invalid(path, start + bad);
        return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }

    /// <summary>Checks <paramref name="path"/> is valid UTF-8, reading it in 64 KiB pieces (for corpora too large to hold twice).</summary>
    /// <exception cref="FileFormatException">As <see cref="ReadAll"/>.</exception>
    public static void Check(string path) => ReadPieces(path, replaceInvalid: false, piece: null);

    /// <summary>
    /// The text <see cref="ReadAll"/> returns, handed to <paramref name="piece"/> in order a piece of at most 64 Ki
    /// characters at a time, so that a corpus is never held whole; with no <paramref name="piece"/> the file is only checked.
    /// </summary>
    /// <exception cref="FileFormatException">As <see cref="ReadAll"/>.</exception>
    public static void ReadPieces(string path, bool replaceInvalid, Action<ReadOnlySpan<char>>? piece)
    {
        const int Size = 1 << 16; // small beside any corpus worth streaming: the ids are then all the memory a character tokenizer takes
        using var stream = File.OpenRead(path);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Size + 4);
        char[] chars = piece is null ? [] : ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetMaxCharCount(Size + 4));
        var decoder = Encoding.UTF8.GetDecoder(); // replaces invalid sequences as GetString does; checked text has none
        try
        {
            long offset = 0;
            int kept = 0; // bytes of a sequence cut by the previous piece's end, moved to the front (when checking)
            while (true)
            {
                int read = stream.ReadAtLeast(buffer.AsSpan(kept, Size), Size, throwOnEndOfStream: false);
                bool last = read < Size;
                var bytes = buffer.AsSpan(0, kept + read);
                int consumed = bytes.Length; // the decoder keeps a cut sequence itself
                if (!replaceInvalid && FirstInvalid(bytes, last, out consumed) is var bad and >= 0) throw Invalid(path, offset + bad);
                if (piece is not null)
                {
                    int skip = offset == 0 && bytes.StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
                    int n = decoder.GetChars(bytes[skip..consumed], chars, flush: last);
                    piece(chars.AsSpan(0, n));
                }
                if (last) return;
                bytes[consumed..].CopyTo(buffer);
                kept = bytes.Length - consumed;
                offset += consumed;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (piece is not null) ArrayPool<char>.Shared.Return(chars);
        }
    }

    static int FirstInvalid(ReadOnlySpan<byte> bytes, bool isFinalBlock) => FirstInvalid(bytes, isFinalBlock, out _);

    /// <summary>
    /// The offset of the first invalid sequence, or −1. Unless <paramref name="isFinalBlock"/>, a sequence cut by the
    /// end is left for the next piece: <paramref name="consumed"/> stops before it.
    /// </summary>
    static int FirstInvalid(ReadOnlySpan<byte> bytes, bool isFinalBlock, out int consumed)
    {
        consumed = isFinalBlock ? bytes.Length : bytes.Length - CutTail(bytes);
        var body = bytes[..consumed];
        if (Utf8.IsValid(body)) return -1;
        int i = 0;
        while (Rune.DecodeFromUtf8(body[i..], out _, out int length) == OperationStatus.Done) i += length;
        return i;
    }

    /// <summary>How many bytes at the end begin a sequence that needs more bytes than are there (0 to 3).</summary>
    static int CutTail(ReadOnlySpan<byte> bytes)
    {
        for (int back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            byte b = bytes[^back];
            if ((b & 0xC0) == 0x80) continue; // a continuation byte: its lead is further back
            int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return length > back ? back : 0;
        }
        return 0;
    }

    static FileFormatException Invalid(string path, long offset) => new(path,
        "invalid UTF-8; is the file in another encoding (Latin-1, UTF-16)? Convert it, or let invalid UTF-8 be replaced " +
            "(replaceInvalidUtf8) to read each bad sequence as U+FFFD",
        byteOffset: offset);
}
