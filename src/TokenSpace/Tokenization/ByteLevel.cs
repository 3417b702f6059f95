namespace TokenSpace.Tokenization;

/// <summary>
/// GPT-2's byte ↔ character table. BPE symbols are stored as text, so every byte gets a visible
/// character: the printable Latin-1 bytes (<c>!</c>..<c>~</c>, <c>¡</c>..<c>¬</c>, <c>®</c>..<c>ÿ</c>)
/// stand for themselves and the other 68 (controls, space, soft hyphen…) map to U+0100, U+0101, … in
/// byte order — which is why a leading space shows as <c>Ġ</c> (U+0120) in <c>vocab.bpe</c>.
/// </summary>
internal static class ByteLevel
{
    /// <summary>byte → its character.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>character → its byte, or -1; indexed by char up to U+0143.</summary>
    static readonly short[] CharToByteTable = BuildCharToByte();

    /// <summary>The byte <paramref name="c"/> stands for, or -1 when it is not a byte-level character.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>
    /// Token bytes as a person reads them: decoded as UTF-8, a byte that is not part of a whole character (a token may
    /// hold part of one) shown as <c>&lt;0xE2&gt;</c>, so that distinct byte strings read distinctly.
    /// </summary>
    public static string Readable(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return System.Text.Encoding.UTF8.GetString(bytes);
        var text = new System.Text.StringBuilder();
        while (!bytes.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes, out var rune, out int used) == System.Buffers.OperationStatus.Done)
            {
                text.Append(rune.ToString());
            }
            else
            {
                used = 1;
                text.Append($"<0x{bytes[0]:X2}>");
            }
            bytes = bytes[used..];
        }
        return text.ToString();
    }

    static char[] BuildByteToChar()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = (char)(printable ? b : next++);
        }
        return table;
    }

    static short[] BuildCharToByte()
    {
        var table = new short[256 + 68];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++) table[ByteToChar[b]] = (short)b;
        return table;
    }
}
