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
}
