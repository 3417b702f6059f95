namespace TokenSpace.Projection;

/// <summary>
/// The low-dimensional similarity of UMAP, <c>1 / (1 + a·d^(2b))</c>, fitted to the curve that <c>min_dist</c>
/// and <c>spread</c> describe (umap-learn's <c>find_ab_params</c>).
/// </summary>
public static class UmapCurve
{
    const int Samples = 300;
    const int MaxIterations = 200;

    /// <summary>
    /// The least-squares (a, b) of <c>1 / (1 + a·x^(2b))</c> against 1 for x &lt; minDist and exp(−(x − minDist) / spread)
    /// beyond, at 300 evenly spaced x in [0, 3·spread], found by Levenberg–Marquardt from (1, 1) as scipy's
    /// <c>curve_fit</c> does. For min_dist 0.1 and spread 1: a ≈ 1.577, b ≈ 0.895.
    /// </summary>
    /// <example><code>var (a, b) = UmapCurve.Fit(spread: 1, minDist: 0.1);</code></example>
    /// <exception cref="ArgumentException">spread is not positive, or minDist is not in [0, spread).</exception>
    public static (double A, double B) Fit(double spread, double minDist)
    {
        if (!(spread > 0)) throw new ArgumentException($"spread must be positive, got {spread}", nameof(spread));
        if (!(minDist >= 0 && minDist < spread))
        {
            throw new ArgumentException($"min_dist must be in [0, spread = {spread}), got {minDist}", nameof(minDist));
        }
        var x = new double[Samples];
        var y = new double[Samples];
        for (int i = 0; i < Samples; i++)
        {
            // numpy's linspace(0, 3·spread, 300): both ends included.
            x[i] = 3 * spread * i / (Samples - 1);
            y[i] = x[i] < minDist ? 1 : Math.Exp(-(x[i] - minDist) / spread);
        }

        double a = 1, b = 1, lambda = 1e-3;
        double cost = Cost(x, y, a, b);
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            // Normal equations of the Gauss–Newton step: (JᵀJ + λ·diag(JᵀJ)) δ = −Jᵀr.
            double jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
            for (int i = 1; i < Samples; i++)
            {
                double power = Math.Pow(x[i], 2 * b), f = 1 / (1 + a * power);
                double da = -power * f * f, db = -2 * a * power * Math.Log(x[i]) * f * f, r = f - y[i];
                jaa += da * da;
                jab += da * db;
                jbb += db * db;
                ga += da * r;
                gb += db * r;
            }
            bool improved = false;
            while (lambda < 1e12)
            {
                double maa = jaa * (1 + lambda), mbb = jbb * (1 + lambda), det = maa * mbb - jab * jab;
                double stepA = (-ga * mbb + gb * jab) / det, stepB = (-gb * maa + ga * jab) / det;
                double trial = Cost(x, y, a + stepA, b + stepB);
                if (trial < cost)
                {
                    bool converged = Math.Abs(stepA) <= 1e-12 * (1 + Math.Abs(a)) && Math.Abs(stepB) <= 1e-12 * (1 + Math.Abs(b));
                    a += stepA;
                    b += stepB;
                    cost = trial;
                    lambda = Math.Max(lambda / 10, 1e-12);
                    improved = !converged;
                    break;
                }
                lambda *= 10;
            }
            if (!improved) break;
        }
        return (a, b);
    }

    static double Cost(double[] x, double[] y, double a, double b)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            // x = 0 gives 1 whatever a and b: pow(0, 2b) = 0 for b > 0.
            double r = 1 / (1 + a * Math.Pow(x[i], 2 * b)) - y[i];
            sum += r * r;
        }
        return sum;
    }
}
