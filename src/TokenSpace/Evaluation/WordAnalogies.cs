using System.Text;
using TokenSpace.IO;
using TokenSpace.Vectors;

namespace TokenSpace.Evaluation;

/// <summary>Correct and incorrect answers of one section of an analogy file (or of the total).</summary>
public sealed record AnalogySection(string Section, int Correct, int Incorrect)
{
    /// <summary>correct / (correct + incorrect), or 0 when nothing was answered.</summary>
    public double Accuracy => Correct + Incorrect == 0 ? 0 : (double)Correct / (Correct + Incorrect);
}

/// <summary>The result of <see cref="WordAnalogies.EvaluateWordAnalogies"/>.</summary>
/// <param name="Accuracy">Total correct / (correct + incorrect).</param>
/// <param name="Correct">Questions answered correctly, all sections.</param>
/// <param name="Incorrect">Questions answered wrongly, all sections.</param>
/// <param name="Skipped">Questions with a word outside the first restrictVocab keys (counted incorrect instead with dummy4unknown).</param>
/// <param name="Questions">Well-formed questions read (gensim's quadruplets).</param>
/// <param name="Sections">Per section, in file order.</param>
public sealed record AnalogyResult(double Accuracy, int Correct, int Incorrect, int Skipped, int Questions,
    IReadOnlyList<AnalogySection> Sections);

/// <summary>Analogy accuracy on a file in the Google format (<c>questions-words.txt</c>), gensim 4's protocol.</summary>
public static class WordAnalogies
{
    /// <summary>
    /// gensim's <c>evaluate_word_analogies</c>: only the first <paramref name="restrictVocab"/> keys
    /// are used; with <paramref name="caseInsensitive"/> keys and questions are upper-cased and the
    /// most frequent (first) key of each upper-cased form wins. A question with a word outside that
    /// vocabulary is skipped (or counted incorrect with <paramref name="dummy4unknown"/>). The answer
    /// is the first of the 5 best 3CosAdd candidates for b − a + c (restricted to those keys, the
    /// question words left out) whose form is not a, b or c. Lines starting ": " open a section;
    /// lines without exactly 4 words are ignored. All questions are answered in one batched scan.
    /// </summary>
    /// <exception cref="FileFormatException">A question comes before any section header, or the file is not UTF-8.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="restrictVocab"/> is less than 1.</exception>
    public static AnalogyResult EvaluateWordAnalogies(this KeyedVectors vectors, string path, int restrictVocab = 300000,
        bool caseInsensitive = true, bool dummy4unknown = false)
    {
        int end = vectors.RowEnd(restrictVocab);
        var vocab = OkVocab(vectors, end, caseInsensitive);
        var sections = new List<(string Name, int Correct, int Incorrect)>();
        var questions = new List<(int Section, int A, int B, int C, string[] Forms)>();
        int skipped = 0, count = 0;
        long lineNo = 0;
        foreach (string line in ReadLines(path))
        {
            lineNo++;
            if (line.StartsWith(": ", StringComparison.Ordinal))
            {
                sections.Add((line.TrimStart(':', ' ').Trim(), 0, 0));
                continue;
            }
            if (sections.Count == 0) throw new FileFormatException(path, "expected a section header ': name' before the first question",
                line: lineNo);
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != 4) continue;
            if (caseInsensitive) words = words.Select(PythonUpper).ToArray();
            count++;
            if (words.Any(w => !vocab.ContainsKey(w)))
            {
                skipped++;
                if (dummy4unknown) sections[^1] = sections[^1] with { Incorrect = sections[^1].Incorrect + 1 };
                continue;
            }
            questions.Add((sections.Count - 1, vocab[words[0]], vocab[words[1]], vocab[words[2]], words));
        }

        var flat = new float[(long)questions.Count * vectors.Dimensions];
        var exclude = new int[questions.Count][];
        for (int q = 0; q < questions.Count; q++)
        {
            var (_, a, b, c, _) = questions[q];
            vectors.MeanQuery([(b, 1.0), (c, 1.0), (a, -1.0)]).CopyTo(flat, q * vectors.Dimensions);
            exclude[q] = new[] { b, c, a }.Distinct().ToArray();
        }
        var found = questions.Count == 0 ? [] : vectors.SearchRows(flat, exclude, 5, end);
        for (int q = 0; q < questions.Count; q++)
        {
            var forms = questions[q].Forms;
            string? predicted = null;
            foreach (var (row, _) in found[q])
            {
                predicted = caseInsensitive ? PythonUpper(vectors.Keys[row]) : vectors.Keys[row];
                if (vocab.ContainsKey(predicted) && predicted != forms[0] && predicted != forms[1] && predicted != forms[2]) break;
            }
            int s = questions[q].Section;
            sections[s] = predicted == forms[3]
                ? sections[s] with { Correct = sections[s].Correct + 1 }
                : sections[s] with { Incorrect = sections[s].Incorrect + 1 };
        }
        var list = sections.Select(s => new AnalogySection(s.Name, s.Correct, s.Incorrect)).ToList();
        var total = new AnalogySection("Total accuracy", list.Sum(s => s.Correct), list.Sum(s => s.Incorrect));
        return new AnalogyResult(total.Accuracy, total.Correct, total.Incorrect, skipped, count, list);
    }

    /// <summary>
    /// gensim's <c>ok_vocab</c>: form → row over the first <paramref name="end"/> keys, the first
    /// (most frequent) key of each form winning.
    /// </summary>
    internal static Dictionary<string, int> OkVocab(KeyedVectors vectors, int end, bool caseInsensitive)
    {
        var vocab = new Dictionary<string, int>(end, StringComparer.Ordinal);
        for (int i = 0; i < end; i++) vocab.TryAdd(caseInsensitive ? PythonUpper(vectors.Keys[i]) : vectors.Keys[i], i);
        return vocab;
    }

    /// <summary>
    /// Upper case as Python's <c>str.upper</c> (full case mapping) for the common cases: invariant
    /// simple mapping, plus the expansions of ß and the Latin ligatures. Other one-to-many
    /// mappings (rare Greek and Armenian forms) follow the simple mapping.
    /// </summary>
    static readonly System.Buffers.SearchValues<char> Expanding = System.Buffers.SearchValues.Create("ßﬀﬁﬂﬃﬄﬅﬆŉ");

    internal static string PythonUpper(string s)
    {
        string upper = s.ToUpperInvariant();
        if (upper.AsSpan().IndexOfAny(Expanding) < 0) return upper;
        var sb = new StringBuilder(upper.Length + 4);
        foreach (char ch in upper)
        {
            sb.Append(ch switch
            {
                'ß' => "SS",
                'ﬀ' => "FF",
                'ﬁ' => "FI",
                'ﬂ' => "FL",
                'ﬃ' => "FFI",
                'ﬄ' => "FFL",
                'ﬅ' or 'ﬆ' => "ST",
                'ŉ' => "ʼN",
                _ => ch.ToString(),
            });
        }
        return sb.ToString();
    }

    /// <summary>Lines of a UTF-8 file split at '\n' only (as gensim reads the analogy file in binary), decoded strictly.</summary>
    internal static IEnumerable<string> ReadLines(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        int pos = 0;
        long line = 0;
        while (pos < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', pos);
            int end = nl < 0 ? bytes.Length : nl + 1;
            line++;
            string text;
            try
            {
                text = strict.GetString(bytes, pos, end - pos);
            }
            catch (DecoderFallbackException e)
            {
                throw new FileFormatException(path, "invalid UTF-8; expected a UTF-8 text file", line: line, inner: e);
            }
            yield return text;
            pos = end;
        }
    }
}
