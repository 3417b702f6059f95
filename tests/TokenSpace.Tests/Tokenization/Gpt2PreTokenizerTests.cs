using System.Text.RegularExpressions;
using TokenSpace.Tokenization;

namespace TokenSpace.Tests.Tokenization;

public class Gpt2PreTokenizerTests
{
    // GPT-2's pattern, as OpenAI wrote it. .NET's Regex reads UTF-16 units, so it is an exact oracle
    // only for text inside the BMP; that is what the random test draws from.
    static readonly Regex Pattern = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant);

    static string[] Pieces(string text)
    {
        var pieces = new List<string>();
        for (int i = 0; i < text.Length;)
        {
            int end = Gpt2PreTokenizer.NextPiece(text, i);
            pieces.Add(text[i..end]);
            i = end;
        }
        return [.. pieces];
    }

    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("I'm don't we'll", new[] { "I", "'m", " don", "'t", " we", "'ll" })]
    [InlineData("I'M DON'T", new[] { "I", "'", "M", " DON", "'", "T" })] // contractions are lower case only
    [InlineData("a   b", new[] { "a", "  ", " b" })]
    [InlineData("a \tb", new[] { "a", " ", "\t", "b" })]
    [InlineData("x  \ny", new[] { "x", "  ", "\n", "y" })]
    [InlineData("end  ", new[] { "end", "  " })]
    [InlineData("12 345 6a", new[] { "12", " 345", " 6", "a" })]
    [InlineData("''s 'sup", new[] { "''", "s", " '", "sup" })]
    [InlineData("e\u0301!? ok", new[] { "e", "\u0301!?", " ok" })]
    [InlineData("𝐀𝐁 x", new[] { "𝐀𝐁", " x" })]
    [InlineData(" 😀😀 a", new[] { " 😀😀", " a" })]
    public void NextPiece_Examples_SplitLikeGpt2(string text, string[] expected) => Assert.Equal(expected, Pieces(text));

    [Fact]
    public void NextPiece_RandomBmpText_MatchesRegex()
    {
        // Characters chosen to hit every branch: contractions' letters, apostrophes, all whitespace kinds,
        // digits of several scripts, combining marks, symbols and letters beyond Latin.
        const string alphabet = "'''sStTrReEvVmMlLdDab  \t\n\r\v\f\u00a0\u3000\u2028\u0085019٣½.,!-_#\u0301\u0308€→αжअ中";
        var random = new Random(7);
        for (int trial = 0; trial < 3000; trial++)
        {
            var chars = new char[random.Next(0, 40)];
            for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
            string text = new(chars);
            string[] expected = [.. Pattern.Matches(text).Select(m => m.Value)];
            Assert.Equal(expected, Pieces(text));
        }
    }
}
