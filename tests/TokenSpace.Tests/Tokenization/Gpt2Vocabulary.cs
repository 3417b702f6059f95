using System.Text.Json;
using TokenSpace.IO;
using TokenSpace.Tokenization;

namespace TokenSpace.Tests.Tokenization;

/// <summary>The real GPT-2 vocabulary from the data cache (tests skip without it), and tiny made-up ones.</summary>
static class Gpt2Vocabulary
{
    static readonly Lazy<Gpt2BpeTokenizer?> Cached = new(() => Gpt2BpeTokenizer.IsCached ? Gpt2BpeTokenizer.FromCache() : null);

    /// <summary>GPT-2's tokenizer; skips the calling test when the vocabulary has not been fetched.</summary>
    public static Gpt2BpeTokenizer Real()
    {
        Assert.SkipWhen(Cached.Value is null, "the GPT-2 vocabulary is not in the cache; run `tokenspace data fetch gpt2-bpe`");
        return Cached.Value!;
    }

    /// <summary>The byte-level symbol of a byte (space is "Ġ"): printable Latin-1 bytes are themselves, the rest U+0100… in order.</summary>
    public static string Symbol(byte b) => Symbols[b];

    static readonly string[] Symbols = BuildSymbols();

    static string[] BuildSymbols()
    {
        var symbols = new string[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE;
            symbols[b] = ((char)(printable ? b : next++)).ToString();
        }
        return symbols;
    }

    static readonly Lazy<ReferenceBpe?> CachedReference = new(() =>
    {
        string dir = Path.Combine(DataCache.Root, Gpt2BpeTokenizer.CacheName, "package");
        return Gpt2BpeTokenizer.IsCached ? new ReferenceBpe(Path.Combine(dir, "encoder.json"), Path.Combine(dir, "vocab.bpe")) : null;
    });

    /// <summary>The original GPT-2 algorithm on the cached vocabulary; skips the calling test without it.</summary>
    public static ReferenceBpe Reference()
    {
        Assert.SkipWhen(CachedReference.Value is null, "the GPT-2 vocabulary is not in the cache; run `tokenspace data fetch gpt2-bpe`");
        return CachedReference.Value!;
    }

    /// <summary>
    /// Writes encoder.json (the 256 byte symbols as ids 0..255, then the merged symbols, then
    /// &lt;|endoftext|&gt;) and vocab.bpe for <paramref name="merges"/> into a new folder; returns both paths.
    /// </summary>
    public static (string Encoder, string Merges) WriteTiny(params string[] merges)
    {
        string dir = Path.Combine(Path.GetTempPath(), "tokenspace-bpe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var vocabulary = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocabulary[Symbol((byte)b)] = b;
        foreach (string merge in merges) vocabulary.TryAdd(merge.Replace(" ", ""), vocabulary.Count);
        vocabulary[Gpt2BpeTokenizer.EndOfText] = vocabulary.Count;
        string encoder = Path.Combine(dir, "encoder.json"), bpe = Path.Combine(dir, "vocab.bpe");
        File.WriteAllText(encoder, JsonSerializer.Serialize(vocabulary));
        File.WriteAllText(bpe, "#version: 0.2\n" + string.Join('\n', merges) + "\n");
        return (encoder, bpe);
    }
}
