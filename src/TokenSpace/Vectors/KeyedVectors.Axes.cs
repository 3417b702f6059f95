namespace TokenSpace.Vectors;

public sealed partial class KeyedVectors
{
    /// <summary>
    /// The Embedding Projector's custom projection: each key's unit vector projected on the unit direction from
    /// the unit vector of <paramref name="x"/>.From to that of <paramref name="x"/>.To (its x), and likewise on
    /// <paramref name="y"/> (its y). Returns <c>(keys.Count, 2)</c> row-major.
    /// <c>kv.AxisCoordinates(["king", "queen"], ("man", "woman"), ("young", "old"))</c>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A key is unknown.</exception>
    /// <exception cref="ArgumentException">An axis joins two keys with the same unit vector (no direction).</exception>
    public double[] AxisCoordinates(IReadOnlyList<string> keys, (string From, string To) x, (string From, string To) y)
    {
        double[] dx = Direction(x), dy = Direction(y);
        var layout = new double[2 * keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            var u = GetVector(keys[i], normalized: true);
            double px = 0, py = 0;
            for (int j = 0; j < u.Length; j++)
            {
                px += u[j] * dx[j];
                py += u[j] * dy[j];
            }
            layout[2 * i] = px;
            layout[2 * i + 1] = py;
        }
        return layout;
    }

    double[] Direction((string From, string To) axis)
    {
        ReadOnlySpan<float> from = GetVector(axis.From, normalized: true), to = GetVector(axis.To, normalized: true);
        var direction = new double[Dimensions];
        double norm = 0;
        for (int j = 0; j < direction.Length; j++)
        {
            direction[j] = (double)to[j] - from[j];
            norm += direction[j] * direction[j];
        }
        norm = Math.Sqrt(norm);
        if (norm == 0) throw new ArgumentException($"'{axis.From}' and '{axis.To}' have the same direction; an axis needs two different " +
            "ones");
        for (int j = 0; j < direction.Length; j++) direction[j] /= norm;
        return direction;
    }
}
