using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

public class VectorMathTests
{
    public static TheoryData<int> Lengths => new(0, 1, 7, 8, 15, 16, 17, 31, 33, 1023);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Dot_AnyLength_MatchesScalar(int n)
    {
        var rng = new Random(n);
        var a = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        double expected = VectorMath.DotScalar(a, b);
        double scale = a.Zip(b).Sum(p => Math.Abs((double)p.First * p.Second)) + 1e-30;
        Assert.True(Math.Abs(VectorMath.Dot(a, b) - expected) <= 1e-6 * scale, $"n={n}");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Norm_AnyLengthAndMagnitude_MatchesScalarWithoutOverflowOrUnderflow(int n)
    {
        var rng = new Random(n);
        foreach (double magnitude in new[] { 1e-30, 1e-20, 1.0, 1e20, 3e38 })
        {
            var a = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 2 * magnitude)).ToArray();
            double expected = VectorMath.NormScalar(a);
            double norm = VectorMath.Norm(a);
            Assert.True(double.IsFinite(norm) && Math.Abs(norm - expected) <= 1e-12 * expected, $"n={n}, magnitude {magnitude}: {norm} vs {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Scale_AnyLengthAndMagnitude_BitIdenticalToScalar(int n)
    {
        var rng = new Random(n);
        foreach (double magnitude in new[] { 1e-30, 1.0, 1e20, 3e38 })
        {
            var a = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 2 * magnitude)).ToArray();
            double norm = VectorMath.Norm(a);
            var fast = new float[n];
            var scalar = new float[n];
            VectorMath.Scale(a, norm, fast);
            VectorMath.ScaleScalar(a, norm, scalar);
            Assert.Equal(scalar, fast);
            VectorMath.Scale(a, norm, a); // in place
            Assert.Equal(scalar, a);
        }
    }

    [Theory]
    [InlineData(1e20f)]
    [InlineData(1e-30f)]
    [InlineData(3e38f)]
    public void Scale_ExtremeRow_UnitLength(float value)
    {
        float[] row = [value, value, -value];
        var unit = new float[3];
        VectorMath.Scale(row, VectorMath.Norm(row), unit);
        Assert.Equal(1.0, VectorMath.NormScalar(unit), 6);
        Assert.Equal(1 / Math.Sqrt(3), unit[0], 6);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(2)]
    [InlineData(25)]
    public void BlockDots_RandomCodes_MatchScalar(int quads)
    {
        // Row bytes over their whole range, query codes at the ±31 the kernels take (the extremes included): no int16 sum overflows.
        var rng = new Random(quads);
        var block = Enumerable.Range(0, quads * 64).Select(i => (byte)(i % 97 == 0 ? 255 : rng.Next(256))).ToArray();
        int Code(int i) => i % 13 == 0 ? 31 * Math.Sign(rng.Next(2) - 0.5) : rng.Next(-31, 32);
        int[] Query() => Enumerable.Range(0, quads).Select(t => Enumerable.Range(0, 4).Aggregate(0, (q, j) => q | (byte)(sbyte)Code(4 * t + j) << (8 * j)))
            .ToArray();
        var q = new[] { Query(), Query(), Query(), Query() };
        var fast = new int[64];
        var slow = new int[64];
        CompactIndex.BlockDots4(block, q[0], q[1], q[2], q[3], fast);
        for (int g = 0; g < 4; g++) CompactIndex.BlockDotsScalar(block, q[g], slow.AsSpan(g * 16, 16));
        Assert.Equal(slow, fast);
        var one = new int[16];
        CompactIndex.BlockDots1(block, q[2], one);
        Assert.Equal(slow[32..48], one);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            CompactIndex.BlockDotsAvx2(block, q[1], one);
            Assert.Equal(slow[16..32], one);
        }
    }
}
