using System.CommandLine;
using TokenSpace.Tokenization;

namespace TokenSpace.Cli;

/// <summary><c>--tokenizer</c>: which tokenizer a verb uses, and how its name becomes an <see cref="ITokenizer"/>.</summary>
static class TokenizerOption
{
    public static Option<string> Create() => new("--tokenizer")
    {
        Description = "Tokenizer: gpt2 (GPT-2 byte-level BPE from the data cache)",
        DefaultValueFactory = _ => "gpt2",
    };

    /// <summary>The tokenizer named <paramref name="spec"/>.</summary>
    /// <exception cref="ArgumentException">The name is not a known tokenizer.</exception>
    public static ITokenizer Resolve(string spec) => spec switch
    {
        "gpt2" => Gpt2BpeTokenizer.FromCache(),
        _ => throw new ArgumentException($"unknown tokenizer '{spec}'; supported: gpt2"),
    };
}
