using System.CommandLine;
using TokenSpace.Formats;
using TokenSpace.Tokenization;

namespace TokenSpace.Cli;

/// <summary><c>--tokenizer</c>: which tokenizer a verb uses, and how its name becomes an <see cref="ITokenizer"/>.</summary>
static class TokenizerOption
{
    public static Option<string> Create() => new("--tokenizer")
    {
        Description = "Tokenizer: gpt2 (GPT-2 byte-level BPE, 50,257 tokens), char (the text's own characters), or a checkpoint / " +
            "Hugging " +
            "Face GPT-2 directory",
        DefaultValueFactory = _ => "gpt2",
    };

    /// <summary>
    /// The tokenizer named <paramref name="spec"/>: <c>gpt2</c>, <c>char</c> (the distinct characters of
    /// <paramref name="corpus"/>, line breaks included), or a directory holding a checkpoint's tokenizer.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a known tokenizer or directory, or char has no corpus.</exception>
    public static ITokenizer Resolve(string spec, string? corpus = null) => spec switch
    {
        "gpt2" => Gpt2BpeTokenizer.Create(),
        "char" => CharTokenizer.TrainStream(corpus
            ?? throw new ArgumentException("--tokenizer char builds its vocabulary from a text; none was given")),
        _ when Directory.Exists(spec) => CheckpointTokenizer.Load(spec),
        _ => throw new ArgumentException($"unknown tokenizer '{spec}'; supported: gpt2, char, or a checkpoint directory"),
    };
}
