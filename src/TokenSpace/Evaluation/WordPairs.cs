using System.Globalization;
using TokenSpace.IO;
using TokenSpace.Vectors;

namespace TokenSpace.Evaluation;

/// <summary>The result of <see cref="WordPairs.EvaluateWordPairs"/>.</summary>
/// <param name="Pearson">Pearson correlation of human scores and model cosine similarities.</param>
/// <param name="Spearman">Spearman rank correlation (tied ranks averaged).</param>
/// <param name="OovRatio">Percentage of pairs with an unknown word (gensim's definition).</param>
/// <param name="Pairs">Pairs that entered the correlations.</param>
/// <param name="Oov">Pairs with an unknown word.</param>
public sealed record WordPairsResult(double Pearson, double Spearman, double OovRatio, int Pairs, int Oov);

/// <summary>Correlation with human similarity judgements (WordSim-353 style: <c>word1 TAB word2 TAB score</c>), gensim 4's
/// protocol.</summary>
public static class WordPairs
{
    /// <summary>
    /// gensim's <c>evaluate_word_pairs</c>: lines starting with '#' are comments; a line that does not
    /// split into exactly three <paramref name="delimiter"/>-separated fields with a numeric third is
    /// ignored; words are upper-cased and looked up among the first <paramref name="restrictVocab"/>
    /// keys (most frequent form wins) when <paramref name="caseInsensitive"/>; a pair with an unknown
    /// word is skipped (or scored 0 with <paramref name="dummy4unknown"/>).
    /// </summary>
    /// <exception cref="FileFormatException">The file is not UTF-8.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="restrictVocab"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException">No pair could be scored.</exception>
    public static WordPairsResult EvaluateWordPairs(this KeyedVectors vectors, string path, char delimiter = '\t',
        int restrictVocab = 300000, bool caseInsensitive = true, bool dummy4unknown = false)
    {
        var vocab = WordAnalogies.OkVocab(vectors, vectors.RowEnd(restrictVocab), caseInsensitive);
        var gold = new List<double>();
        var model = new List<double>();
        int oov = 0;
        foreach (string raw in WordAnalogies.ReadLines(path))
        {
            // Python's text mode also ends lines at a lone '\r'.
            foreach (string line in raw.Split('\r').Where(l => l.Length > 0))
            {
                if (line.StartsWith('#')) continue;
                var parts = line.Split(delimiter);
                if (parts.Length != 3) continue;
                if (caseInsensitive) parts = parts.Select(WordAnalogies.PythonUpper).ToArray();
                if (!double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double sim)) continue;
                if (!vocab.TryGetValue(parts[0], out int a) || !vocab.TryGetValue(parts[1], out int b))
                {
                    oov++;
                    if (dummy4unknown)
                    {
                        model.Add(0.0);
                        gold.Add(sim);
                    }
                    continue;
                }
                gold.Add(sim);
                model.Add(VectorMath.Dot(vectors.Row(a, true), vectors.Row(b, true)));
            }
        }
        if (gold.Count == 0) throw new InvalidOperationException($"no valid similarity judgements in {path}: wrong format, or every pair " +
            "is out of vocabulary");
        double ratio = dummy4unknown ? 100.0 * oov / gold.Count : 100.0 * oov / (gold.Count + oov);
        return new WordPairsResult(Pearson(gold, model), Spearman(gold, model), ratio, gold.Count, oov);
    }

    /// <summary>Pearson's r in double, as scipy: centred vectors scaled to unit length, their dot product, clipped to [−1, 1].</summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = x.Count;
        double mx = x.Average(), my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1.0, 1.0);
    }

    /// <summary>Spearman's ρ: Pearson's r of the ranks, tied values sharing the mean of their ranks.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y) => Pearson(Ranks(x), Ranks(y));

    /// <summary>1-based ranks, ties averaged (scipy's rankdata 'average').</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = rank;
            i = j + 1;
        }
        return ranks;
    }
}
