using TokenSpace.Projection;

namespace TokenSpace.Tests.Projection;

public class ProcrustesTests
{
    static double[] Points(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 2 * n).Select(_ => ProjectionData.Normal(random)).ToArray();
    }

    /// <summary>target = scale · source · [[cos, sin], [−sin, cos]] (optionally mirrored) + shift.</summary>
    static double[] Transform(double[] source, double angle, double scale, bool mirror, double shiftX, double shiftY)
    {
        var target = new double[source.Length];
        for (int i = 0; i < source.Length / 2; i++)
        {
            double x = source[2 * i], y = mirror ? -source[2 * i + 1] : source[2 * i + 1];
            target[2 * i] = scale * (x * Math.Cos(angle) - y * Math.Sin(angle)) + shiftX;
            target[2 * i + 1] = scale * (x * Math.Sin(angle) + y * Math.Cos(angle)) + shiftY;
        }
        return target;
    }

    [Fact]
    public void Align_PlantedRotationScaleShift_RecoversThem()
    {
        var source = Points(25, 1);
        var target = Transform(source, 0.7, 2.5, mirror: false, 3, -1);

        var result = Procrustes.Align(source, target, 2, allowScale: true);

        Assert.Equal(2.5, result.Scale, 1e-10);
        Assert.Equal(Math.Cos(0.7), result.Rotation[0], 1e-10);
        Assert.Equal(Math.Sin(0.7), result.Rotation[1], 1e-10);
        Assert.Equal(-Math.Sin(0.7), result.Rotation[2], 1e-10);
        Assert.Equal(Math.Cos(0.7), result.Rotation[3], 1e-10);
        for (int t = 0; t < target.Length; t++) Assert.Equal(target[t], result.Aligned[t], 1e-9);
        Assert.True(result.Residual < 1e-16);
    }

    [Fact]
    public void Align_PlantedReflection_RecoversIt()
    {
        var source = Points(25, 2);
        var target = Transform(source, -2.0, 1, mirror: true, 0.5, 0.5);

        var result = Procrustes.Align(source, target, 2, allowScale: false);

        double determinant = result.Rotation[0] * result.Rotation[3] - result.Rotation[1] * result.Rotation[2];
        Assert.Equal(-1, determinant, 1e-10);
        for (int t = 0; t < target.Length; t++) Assert.Equal(target[t], result.Aligned[t], 1e-9);
    }

    [Fact]
    public void Align_WithoutScaling_KeepsTheSize()
    {
        var source = Points(25, 3);
        var target = Transform(source, 1.1, 3, mirror: false, 0, 0);

        var result = Procrustes.Align(source, target, 2, allowScale: false);

        Assert.Equal(1, result.Scale);
        Assert.Equal(Math.Cos(1.1), result.Rotation[0], 1e-10);
        Assert.True(result.Residual > 1);
    }

    [Fact]
    public void Align_DifferentSizes_Throws() =>
        Assert.Throws<ArgumentException>(() => Procrustes.Align(new double[6], new double[8], 2, true));
}
