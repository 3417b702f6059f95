namespace TokenSpace.Vectors;

/// <summary>
/// The best <c>k</c> (score, row) pairs seen so far: higher score first, and on equal scores the
/// lower row first, so results never depend on the order rows were offered in. A binary min-heap
/// whose root is the worst kept pair.
/// </summary>
sealed class TopK
{
    readonly float[] scores;
    readonly int[] rows;
    int count;

    public TopK(int k)
    {
        scores = new float[k];
        rows = new int[k];
    }

    public int Count => count;

    /// <summary>True when <paramref name="score"/> at <paramref name="row"/> would be kept.</summary>
    public bool Admits(float score, int row) =>
        count < scores.Length || (scores.Length > 0 && Better(score, row, scores[0], rows[0]));

    /// <summary>The worst kept score, or -∞ while fewer than k are kept.</summary>
    public float Threshold => count < scores.Length || scores.Length == 0 ? float.NegativeInfinity : scores[0];

    public void Offer(float score, int row)
    {
        if (count < scores.Length)
        {
            int i = count++;
            scores[i] = score;
            rows[i] = row;
            SiftUp(i);
        }
        else if (Admits(score, row))
        {
            scores[0] = score;
            rows[0] = row;
            SiftDown(0);
        }
    }

    /// <summary>The kept pairs, best first.</summary>
    public (int Row, float Score)[] Sorted()
    {
        var result = new (int Row, float Score)[count];
        for (int i = 0; i < count; i++) result[i] = (rows[i], scores[i]);
        Array.Sort(result, (x, y) => Better(x.Score, x.Row, y.Score, y.Row) ? -1 : Better(y.Score, y.Row, x.Score, x.Row) ? 1 : 0);
        return result;
    }

    /// <summary>Score order of the whole library: higher first, ties by lower row.</summary>
    public static bool Better(float s1, int r1, float s2, int r2) => s1 > s2 || (s1 == s2 && r1 < r2);

    void SiftUp(int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Better(scores[parent], rows[parent], scores[i], rows[i])) break;
            Swap(i, parent);
            i = parent;
        }
    }

    void SiftDown(int i)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < count && Better(scores[worst], rows[worst], scores[l], rows[l])) worst = l;
            if (r < count && Better(scores[worst], rows[worst], scores[r], rows[r])) worst = r;
            if (worst == i) return;
            Swap(i, worst);
            i = worst;
        }
    }

    void Swap(int i, int j)
    {
        (scores[i], scores[j]) = (scores[j], scores[i]);
        (rows[i], rows[j]) = (rows[j], rows[i]);
    }
}
