using TokenSpace.Projection;

namespace TokenSpace.Tests.Projection;

public class TrustworthinessTests
{
    [Theory]
    [InlineData(5, "k5")]
    [InlineData(10, "k10")]
    public void Compute_GoldenCase_EqualsScikitLearn(int k, string key)
    {
        var golden = ProjectionData.Golden("trustworthiness");
        int n = golden.GetProperty("n").GetInt32(), d = golden.GetProperty("d").GetInt32();

        double t = Trustworthiness.Compute(ProjectionData.Floats(golden.GetProperty("x")), n, d, ProjectionData.Doubles(golden.GetProperty("y")), 2, k);

        Assert.Equal(golden.GetProperty(key).GetDouble(), t, 1e-12);
    }

    [Fact]
    public void Compute_MapIsTheData_IsOne()
    {
        var x = ProjectionData.Clusters(2, 15, 2, seed: 3);
        double t = Trustworthiness.Compute(x, 30, 2, x.Select(v => (double)v).ToArray(), 2, 5);
        Assert.Equal(1.0, t, 1e-12);
    }

    [Fact]
    public void Compute_TooManyNeighbours_Throws() =>
        Assert.Throws<ArgumentException>(() => Trustworthiness.Compute(new float[20], 10, 2, new double[20], 2, 5));

    [Fact]
    public void Compute_Sample_ScalesThePartialSumAndEqualsExactOnAllPoints()
    {
        var g = ProjectionData.Golden("trustworthiness");
        int n = g.GetProperty("n").GetInt32(), d = g.GetProperty("d").GetInt32();
        var x = ProjectionData.Floats(g.GetProperty("x"));
        var y = ProjectionData.Doubles(g.GetProperty("y"));
        double exact = Trustworthiness.Compute(x, n, d, y, 2, 5);
        Assert.Equal(exact, Trustworthiness.Compute(x, n, d, y, 2, 5, Enumerable.Range(0, n).ToArray()));
        // The even points' and the odd points' estimates average to the exact value.
        double even = Trustworthiness.Compute(x, n, d, y, 2, 5, Enumerable.Range(0, n / 2).Select(i => 2 * i).ToArray());
        double odd = Trustworthiness.Compute(x, n, d, y, 2, 5, Enumerable.Range(0, n / 2).Select(i => 2 * i + 1).ToArray());
        Assert.Equal(exact, (even + odd) / 2, 12);
        Assert.Throws<ArgumentException>(() => Trustworthiness.Compute(x, n, d, y, 2, 5, [n]));
    }
}
