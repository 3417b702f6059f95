using TokenSpace.Projection;

namespace TokenSpace.Tests.Projection;

public class PcaTests
{
    [Fact]
    public void Fit_PlantedPlane_RecoversThePlane()
    {
        // 200 points on a plane spanned by two orthonormal 8-D directions, plus noise of 1e-3.
        const int n = 200, d = 8;
        var random = new Random(1);
        var u = new double[d];
        var v = new double[d];
        for (int j = 0; j < d; j++) { u[j] = ProjectionData.Normal(random); v[j] = ProjectionData.Normal(random); }
        Normalise(u);
        double uv = u.Zip(v, (a, b) => a * b).Sum();
        for (int j = 0; j < d; j++) v[j] -= uv * u[j];
        Normalise(v);
        var x = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            double a = 4 * ProjectionData.Normal(random), b = 2 * ProjectionData.Normal(random);
            for (int j = 0; j < d; j++) x[i * d + j] = (float)(a * u[j] + b * v[j] + 1e-3 * ProjectionData.Normal(random) + 5);
        }

        var pca = Pca.Fit(x, n, d, 2);

        for (int c = 0; c < 2; c++)
        {
            var axis = pca.Components.AsSpan(c * d, d).ToArray();
            double inPlane = Math.Pow(axis.Zip(u, (a, b) => a * b).Sum(), 2) + Math.Pow(axis.Zip(v, (a, b) => a * b).Sum(), 2);
            Assert.Equal(1, inPlane, 1e-5);
        }
        Assert.True(pca.ExplainedVarianceRatio.Sum() > 0.99999, $"ratio {pca.ExplainedVarianceRatio.Sum()}");
        Assert.True(pca.ExplainedVariance[0] > pca.ExplainedVariance[1]);
        Assert.Equal(5, pca.Mean[3], 0.5);
    }

    [Fact]
    public void Fit_GoldenCase_MatchesScikitLearn()
    {
        var golden = ProjectionData.Golden("pca");
        int n = golden.GetProperty("n").GetInt32(), d = golden.GetProperty("d").GetInt32(), k = golden.GetProperty("k").GetInt32();

        var pca = Pca.Fit(ProjectionData.Floats(golden.GetProperty("x")), n, d, k);

        AssertClose(ProjectionData.Doubles(golden.GetProperty("components")), pca.Components, 1e-9);
        AssertClose(ProjectionData.Doubles(golden.GetProperty("explained_variance")), pca.ExplainedVariance, 1e-9);
        AssertClose(ProjectionData.Doubles(golden.GetProperty("explained_variance_ratio")), pca.ExplainedVarianceRatio, 1e-9);
        AssertClose(ProjectionData.Doubles(golden.GetProperty("transformed")), pca.Coordinates, 1e-9);
    }

    [Fact]
    public void Fit_AnyData_LargestCoordinateOfEachComponentIsPositive()
    {
        var x = ProjectionData.Clusters(3, 10, 5, seed: 2);
        for (int t = 0; t < x.Length; t++) x[t] = -x[t];

        var pca = Pca.Fit(x, 30, 5, 3);

        for (int c = 0; c < 3; c++)
        {
            var column = Enumerable.Range(0, 30).Select(i => pca.Coordinates[i * 3 + c]).ToArray();
            Assert.True(column.MaxBy(Math.Abs) > 0);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void Fit_ComponentsOutOfRange_Throws(int k) =>
        Assert.Throws<ArgumentException>(() => Pca.Fit(new float[10 * 5], 10, 5, k));

    [Fact]
    public void Fit_WrongMatrixSize_Throws() => Assert.Throws<ArgumentException>(() => Pca.Fit(new float[11], 3, 4, 1));

    static void Normalise(double[] v)
    {
        double norm = Math.Sqrt(v.Sum(a => a * a));
        for (int j = 0; j < v.Length; j++) v[j] /= norm;
    }

    internal static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.True(Math.Abs(expected[t] - actual[t]) <= tolerance * Math.Max(1, Math.Abs(expected[t])), $"[{t}]: expected {expected[t]}, got {actual[t]}");
        }
    }
}
