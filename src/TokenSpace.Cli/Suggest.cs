namespace TokenSpace.Cli;

/// <summary>"Did you mean" for a mistyped verb, option or name: the nearest candidate by edit distance.</summary>
static class Suggest
{
    /// <summary>
    /// <c>"; did you mean 'x'?"</c> for the candidate nearest to <paramref name="given"/> (optimal string
    /// alignment distance, so a swap of two letters counts once), or "" when none is close.
    /// </summary>
    public static string Nearest(string given, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            int d = Distance(given.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (candidate, d);
        }
        int allowed = Math.Max(2, given.Length / 3);
        return best is not null && bestDistance <= allowed ? $"; did you mean '{best}'?" : "";
    }

    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
