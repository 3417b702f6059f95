using TokenSpace.IO;
using TokenSpace.Tokenization;

namespace TokenSpace.Tests.Tokenization;

public class TokenFileTests
{
    /// <summary>
    /// Delegates to a tiny BPE but keeps ITokenizer's default (read-everything) Encode, and counts how
    /// often a corpus is encoded.
    /// </summary>
    sealed class CountingTokenizer(ITokenizer inner, int vocabSize) : ITokenizer
    {
        public int Encodes;
        public int VocabSize => vocabSize;
        public int[] EncodeToIds(ReadOnlySpan<char> text)
        {
            Encodes++;
            return inner.EncodeToIds(text);
        }
        public Token[] EncodeToTokens(ReadOnlySpan<char> text) => inner.EncodeToTokens(text);
        public string Decode(ReadOnlySpan<int> ids) => inner.Decode(ids);
        public string TokenText(int id) => inner.TokenText(id);
        public string Kind => inner.Kind;
        public int DocumentSeparator => inner.DocumentSeparator;
        public int[] TextStart => inner.TextStart;
        public string? CacheKey => inner.CacheKey;
        public void SaveInto(string dir) => inner.SaveInto(dir);
    }

    static string NewDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "tokenspace-tokens-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    static Gpt2BpeTokenizer Tiny()
    {
        var (encoder, merges) = Gpt2Vocabulary.WriteTiny("l l", "h e", "he ll", "Ġ w");
        return Gpt2BpeTokenizer.FromEncoderJson(encoder, merges);
    }

    [Fact]
    public void Prepare_Corpus_WritesLittleEndianUInt16OnceAndReadsBack()
    {
        string dir = NewDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, "hello well\n<|endoftext|>héllo\n");
        var bpe = Tiny();
        var tokenizer = new CountingTokenizer(bpe, bpe.VocabSize);

        string path = TokenFile.Prepare(tokenizer, "tiny", corpus, dir);
        int[] expected = bpe.EncodeToIds(File.ReadAllText(corpus));
        // hell o | Ġw e ll | \n | <|endoftext|> | h é(2 bytes) ll o | \n  (bytes are their own ids here)
        Assert.Equal([258, 'o', 259, 'e', 256, '\n', 260, 'h', 0xC3, 0xA9, 256, 'o', '\n'], expected);
        Assert.Equal(Path.Combine(dir, "tokens"), Path.GetDirectoryName(path));
        Assert.EndsWith(".tiny.u16", path);
        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(2 * expected.Length, raw.Length);
        Assert.Equal(258, raw[0] | raw[1] << 8); // "hell" = 0x0102, low byte first
        Assert.Equal(0x02, raw[0]);

        using (var tokens = TokenFile.Open(path))
        {
            Assert.Equal(expected.Length, tokens.Count);
            var all = new int[expected.Length];
            tokens.Read(0, all);
            Assert.Equal(expected, all);
            var window = new int[3];
            tokens.Read(2, window);
            Assert.Equal(expected[2..5], window);
            Assert.Equal(expected[^1], tokens[expected.Length - 1]);
            Assert.Throws<ArgumentOutOfRangeException>(() => tokens[expected.Length]);
            Assert.Throws<ArgumentOutOfRangeException>(() => tokens.Read(expected.Length - 1, window));
        }

        Assert.Equal(path, TokenFile.Prepare(tokenizer, "tiny", corpus, dir));
        Assert.Equal(1, tokenizer.Encodes);
        Assert.NotEqual(path, TokenFile.Prepare(tokenizer, "other", corpus, dir));
        File.AppendAllText(corpus, "more");
        Assert.NotEqual(path, TokenFile.Prepare(tokenizer, "tiny", corpus, dir));
        Assert.Equal(3, tokenizer.Encodes);
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "tokens"), "*.tmp-*"));
    }

    [Fact]
    public void Prepare_VocabularyAboveUInt16_Throws()
    {
        string dir = NewDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, "x");
        var tokenizer = new CountingTokenizer(Tiny(), 65537);
        var e = Assert.Throws<ArgumentException>(() => TokenFile.Prepare(tokenizer, "big", corpus, dir));
        Assert.Contains("65537", e.Message);
        Assert.Throws<ArgumentException>(() => TokenFile.Prepare(new CountingTokenizer(Tiny(), 300), "a/b", corpus, dir));
    }

    [Fact]
    public void Open_OddLength_ThrowsWithOffset()
    {
        string path = Path.Combine(NewDir(), "bad.u16");
        File.WriteAllBytes(path, [1, 0, 2]);
        var e = Assert.Throws<FileFormatException>(() => TokenFile.Open(path));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(2, e.ByteOffset);
    }

    [Fact]
    public void Open_EmptyFile_HasNoTokens()
    {
        string path = Path.Combine(NewDir(), "empty.u16");
        File.WriteAllBytes(path, []);
        using var tokens = TokenFile.Open(path);
        Assert.Equal(0, tokens.Count);
        tokens.Read(0, Span<int>.Empty);
    }
}
