namespace TokenSpace.Cli.Commands;

/// <summary>Colour groups for the keys of a character tokenizer: what the demo's letters are expected to sort into.</summary>
static class LetterGroups
{
    /// <summary>"vowel" (a e i o u, either case), "consonant" (the other Latin letters; y counts here), "BOS" (<c>&lt;BOS&gt;</c>) or
    /// "other".</summary>
    public static string Of(string key) => key switch
    {
        "<BOS>" => "BOS",
        [var c] when "aeiouAEIOU".Contains(c) => "vowel",
        [var c] when char.IsAsciiLetter(c) => "consonant",
        _ => "other",
    };
}
