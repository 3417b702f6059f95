using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TokenSpace.Tests.Tokenization;

/// <summary>
/// OpenAI's original GPT-2 <c>encoder.py</c>, transcribed plainly as the test oracle: regex pieces, bytes to
/// symbols, then repeatedly merge every occurrence of the lowest-ranked pair. Exact for BMP text only
/// (.NET's Regex sees surrogate pairs as two characters).
/// </summary>
sealed class ReferenceBpe
{
    static readonly Regex Pattern = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant);

    readonly Dictionary<string, int> encoder;
    readonly Dictionary<(string, string), int> ranks = [];

    public ReferenceBpe(string encoderJson, string vocabBpe)
    {
        encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(encoderJson))!;
        string[] lines = File.ReadAllLines(vocabBpe);
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            string[] pair = lines[i].Split(' ');
            ranks.TryAdd((pair[0], pair[1]), ranks.Count);
        }
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (Match piece in Pattern.Matches(text))
        {
            var symbols = Encoding.UTF8.GetBytes(piece.Value).Select(b => Gpt2Vocabulary.Symbol(b)).ToList();
            foreach (string symbol in Bpe(symbols)) ids.Add(encoder[symbol]);
        }
        return ids;
    }

    List<string> Bpe(List<string> word)
    {
        while (word.Count > 1)
        {
            (string, string)? best = null;
            int bestRank = int.MaxValue;
            for (int i = 0; i + 1 < word.Count; i++)
            {
                if (ranks.TryGetValue((word[i], word[i + 1]), out int r) && r < bestRank)
                {
                    bestRank = r;
                    best = (word[i], word[i + 1]);
                }
            }
            if (best is not { } pair) break;
            var merged = new List<string>();
            for (int i = 0; i < word.Count;)
            {
                if (i + 1 < word.Count && word[i] == pair.Item1 && word[i + 1] == pair.Item2)
                {
                    merged.Add(pair.Item1 + pair.Item2);
                    i += 2;
                }
                else merged.Add(word[i++]);
            }
            word = merged;
        }
        return word;
    }
}
