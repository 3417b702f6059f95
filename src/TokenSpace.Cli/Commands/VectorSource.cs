using System.Globalization;
using TokenSpace.Formats;

namespace TokenSpace.Cli.Commands;

/// <summary>Keys and their vectors as the map and heatmap verbs consume them.</summary>
/// <param name="Keys">One key per row, <c>(n)</c>.</param>
/// <param name="Matrix">The rows, <c>(n, Dims)</c> row-major.</param>
/// <param name="Dims">Dimension of a row.</param>
sealed record LoadedVectors(string[] Keys, float[] Matrix, int Dims)
{
    /// <summary>The rows of the given keys, in that order.</summary>
    /// <exception cref="KeyNotFoundException">Some keys are absent; the message lists them.</exception>
    public LoadedVectors Select(IReadOnlyList<string> wanted)
    {
        var index = new Dictionary<string, int>(Keys.Length);
        for (int i = 0; i < Keys.Length; i++) index.TryAdd(Keys[i], i);
        var missing = wanted.Where(w => !index.ContainsKey(w)).ToList();
        if (missing.Count > 0) throw new KeyNotFoundException($"not in the vectors: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? $" and {missing.Count - 10} more" : "")}");
        var matrix = new float[wanted.Count * Dims];
        for (int r = 0; r < wanted.Count; r++) Array.Copy(Matrix, index[wanted[r]] * Dims, matrix, r * Dims, Dims);
        return new LoadedVectors(wanted.ToArray(), matrix, Dims);
    }

    /// <summary>The first <paramref name="count"/> rows (all when there are fewer).</summary>
    public LoadedVectors Take(int count)
    {
        int n = Math.Min(count, Keys.Length);
        return new LoadedVectors(Keys[..n], Matrix[..(n * Dims)], Dims);
    }
}

/// <summary>Where the map and heatmap verbs get their vectors from.</summary>
static class VectorSource
{
    /// <summary>
    /// TEMPORARY: loads the whitespace text format only. When the `vectors` branch merges, replace this
    /// delegate with its KeyedVectors loader (any format, detected from content) — the verbs need nothing else.
    /// </summary>
    public static Func<string, LoadedVectors> Load { get; set; } = ReadWhitespaceText;

    /// <summary>
    /// TEMPORARY (replaced by the vectors branch's loader): GloVe-style text, one <c>word v1 v2 …</c> per line,
    /// every line with the same number of values; a word2vec-style "count dims" first line is skipped.
    /// </summary>
    /// <exception cref="FileFormatException">A line has another number of fields or a value is not a number.</exception>
    static LoadedVectors ReadWhitespaceText(string path)
    {
        var keys = new List<string>();
        var values = new List<float>();
        int dims = -1;
        long line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            string[] fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            if (line == 1 && fields.Length == 2 && int.TryParse(fields[0], out _) && int.TryParse(fields[1], out _)) continue;
            if (fields.Length < 2) throw new FileFormatException(path, $"expected a word and its values, found {fields.Length} field", line);
            if (dims < 0) dims = fields.Length - 1;
            if (fields.Length != dims + 1) throw new FileFormatException(path, $"expected {dims + 1} fields (a word and {dims} values, as on the first line), found {fields.Length}", line);
            keys.Add(fields[0]);
            for (int j = 1; j < fields.Length; j++)
            {
                if (!float.TryParse(fields[j], NumberStyles.Float, CultureInfo.InvariantCulture, out float v))
                {
                    throw new FileFormatException(path, $"value {j} '{fields[j]}' is not a number", line);
                }
                values.Add(v);
            }
        }
        if (keys.Count == 0) throw new FileFormatException(path, "no vectors found; expected lines of 'word v1 v2 ...'");
        return new LoadedVectors(keys.ToArray(), values.ToArray(), dims);
    }
}
