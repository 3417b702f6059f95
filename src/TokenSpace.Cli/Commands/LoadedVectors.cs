using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>The rows the map and heatmap verbs draw: a few keys and a private copy of their vectors.</summary>
/// <param name="Keys">One key per row, <c>(n)</c>.</param>
/// <param name="Matrix">The rows, <c>(n, Dims)</c> row-major.</param>
/// <param name="Dims">Dimension of a row.</param>
sealed record LoadedVectors(string[] Keys, float[] Matrix, int Dims)
{
    /// <summary>The rows of the given keys of <paramref name="vectors"/>, in that order.</summary>
    /// <exception cref="ArgumentException">A key is listed twice.</exception>
    /// <exception cref="KeyNotFoundException">Some keys are absent; the message lists them.</exception>
    public static LoadedVectors Select(KeyedVectors vectors, IReadOnlyList<string> wanted)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string w in wanted)
        {
            if (!seen.Add(w)) throw new ArgumentException($"'{w}' is listed twice; give each word once");
        }
        var missing = wanted.Where(w => !vectors.Contains(w)).ToList();
        if (missing.Count > 0) throw new KeyNotFoundException($"not in the vectors: " +
            $"{string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? $" and {missing.Count - 10} more" : "")}");
        int d = vectors.Dimensions;
        var matrix = new float[wanted.Count * d];
        for (int r = 0; r < wanted.Count; r++) vectors.Row(vectors.IndexOf(wanted[r])).CopyTo(matrix.AsSpan(r * d, d));
        return new LoadedVectors(wanted.ToArray(), matrix, d);
    }

    /// <summary>The first <paramref name="count"/> rows of <paramref name="vectors"/> (all when there are fewer).</summary>
    public static LoadedVectors Take(KeyedVectors vectors, int count)
    {
        int n = Math.Min(count, vectors.Count), d = vectors.Dimensions;
        return new LoadedVectors(vectors.Keys.Take(n).ToArray(), vectors.Vectors[..(n * d)].ToArray(), d);
    }
}
