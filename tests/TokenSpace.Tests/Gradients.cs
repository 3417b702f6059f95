namespace TokenSpace.Tests;

/// <summary>Finite-difference checks of analytic gradients.</summary>
static class Gradients
{
    /// <summary>
    /// For every element of <paramref name="parameter"/>, compares <paramref name="gradient"/> with the
    /// central difference (L(p + h) − L(p − h)) / 2h of the scalar <paramref name="loss"/>, evaluated in
    /// double. With float storage and h = 1e-2 the truncation error of a loss linear in each parameter is
    /// zero and the rounding error is about 1e-7 · |L| / h, hence the tolerance.
    /// </summary>
    public static void AssertMatchesFiniteDifferences(float[] parameter, float[] gradient, Func<double> loss, double h = 1e-2, double tolerance = 2e-3)
    {
        for (int i = 0; i < parameter.Length; i++)
        {
            float saved = parameter[i];
            parameter[i] = (float)(saved + h);
            double plus = loss();
            double hPlus = parameter[i] - (double)saved;
            parameter[i] = (float)(saved - h);
            double minus = loss();
            double hMinus = saved - (double)parameter[i];
            parameter[i] = saved;
            // Divide by the steps actually taken after rounding to float.
            double numeric = (plus - minus) / (hPlus + hMinus);
            double diff = Math.Abs(numeric - gradient[i]);
            Assert.True(diff <= tolerance * (1 + Math.Abs(numeric)), $"element {i}: analytic {gradient[i]}, numeric {numeric:G7}");
        }
    }
}
