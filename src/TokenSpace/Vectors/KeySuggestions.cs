namespace TokenSpace.Vectors;

/// <summary>Close spellings for a key that is not in the vocabulary, so the error can say "did you mean".</summary>
static class KeySuggestions
{
    /// <summary>
    /// Up to <paramref name="max"/> keys that differ from <paramref name="key"/> only by case, or by
    /// at most two edits (Levenshtein), preferring case variants, then fewer edits, then earlier
    /// (more frequent) keys.
    /// </summary>
    public static List<string> Find(string key, IReadOnlyList<string> keys, int max = 5)
    {
        var found = new List<(int Distance, int Row, string Key)>();
        int limit = key.Length <= 3 ? 1 : 2;
        for (int i = 0; i < keys.Count; i++)
        {
            string candidate = keys[i];
            if (Math.Abs(candidate.Length - key.Length) > limit) continue;
            int d = string.Equals(candidate, key, StringComparison.OrdinalIgnoreCase) ? 0 : Levenshtein(key, candidate, limit);
            if (d <= limit) found.Add((d, i, candidate));
        }
        return found.OrderBy(f => f.Distance).ThenBy(f => f.Row).Take(max).Select(f => f.Key).ToList();
    }

    /// <summary>The exception every query throws for an unknown key.</summary>
    public static KeyNotFoundException NotFound(string key, IReadOnlyList<string> keys)
    {
        var close = Find(key, keys);
        string hint = close.Count == 0 ? "" : $"; did you mean {string.Join(", ", close.Select(k => $"'{k}'"))}?";
        return new KeyNotFoundException($"key '{key}' is not in the vocabulary of {keys.Count} keys{hint}");
    }

    /// <summary>Edit distance, giving up (returning limit + 1) once every path exceeds <paramref name="limit"/>.</summary>
    static int Levenshtein(string a, string b, int limit)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            int rowMin = cur[0];
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
                rowMin = Math.Min(rowMin, cur[j]);
            }
            if (rowMin > limit) return limit + 1;
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
