using System.Numerics;
using System.Runtime.Intrinsics;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

public class ExponentialTests
{
    /// <summary>Distance in units in the last place between two finite positive floats.</summary>
    static long Ulps(float a, float b) => Math.Abs((long)BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    [Fact]
    public void Exp_NormalRange_WithinOneUlpOfExact()
    {
        // Two million points over the whole range whose result is a normal float, plus ln 2 multiples (the reduction's edges).
        long worst = 0;
        float worstX = 0;
        for (int i = 0; i <= 2_000_000; i++)
        {
            float x = -87.3f + 175.9f * i / 2_000_000;
            Check(x);
        }
        for (int n = -125; n <= 127; n++)
        {
            foreach (float x in new[] { MathF.BitDecrement((float)(n * Math.Log(2))), (float)(n * Math.Log(2)), MathF.BitIncrement((float)(n * Math.Log(2))) }) Check(x);
        }
        Assert.True(worst <= 1, $"{worst} ulp at x = {worstX}");

        void Check(float x)
        {
            float exact = (float)Math.Exp(x);
            if (exact < 1.17549435e-38f || float.IsInfinity(exact)) return;
            long u = Ulps(exact, Exponential.Exp(x));
            if (u > worst) (worst, worstX) = (u, x);
        }
    }

    [Fact]
    public void Exp_EveryLane_EqualsScalar()
    {
        var x = Enumerable.Range(0, 4096).Select(i => -110f + 210f * i / 4095).Append(0f).Append(-0f).Append(1e-30f).ToArray();
        int W = Vector<float>.Count;
        for (int i = 0; i + W <= x.Length; i += W)
        {
            var lanes = Exponential.Exp(new Vector<float>(x, i));
            for (int j = 0; j < W; j++) Assert.Equal(Exponential.Exp(x[i + j]), lanes[j]);
        }
        // The 512-bit form, where AVX-512 runs it.
        for (int i = 0; Vector512.IsHardwareAccelerated && i + 16 <= x.Length; i += 16)
        {
            var lanes = Exponential.Exp(Vector512.Create(x.AsSpan(i, 16)));
            for (int j = 0; j < 16; j++) Assert.Equal(Exponential.Exp(x[i + j]), lanes[j]);
        }
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(1f, 2.7182817f)]
    [InlineData(89f, float.PositiveInfinity)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    [InlineData(-104f, 0f)]
    [InlineData(float.NegativeInfinity, 0f)]
    public void Exp_Edges(float x, float expected)
    {
        Assert.Equal(expected, Exponential.Exp(x));
        Assert.Equal(expected, Exponential.Exp(new Vector<float>(x))[0]);
    }

    [Fact]
    public void Exp_BelowNormalRange_FallsGraduallyToZero()
    {
        // e^−95 ≈ 5.5e−42 is subnormal: kept to within a few of the 2^−149 steps, not flushed.
        float tiny = Exponential.Exp(-95f);
        Assert.InRange(tiny, 5.4e-42f, 5.6e-42f);
        Assert.True(Exponential.Exp(-100f) < tiny);
    }

    [Fact]
    public void Exp_NaN_StaysNaN()
    {
        Assert.True(float.IsNaN(Exponential.Exp(float.NaN)));
        Assert.True(float.IsNaN(Exponential.Exp(new Vector<float>(float.NaN))[0]));
    }

    [Fact]
    public void ExpSum_EveryLength_EqualsTheScalarPerElementAndSumsThem()
    {
        // Lengths 0 to 50 cover whole vectors at every width and every tail; the values past the span must stay as they were.
        var x = Enumerable.Range(0, 60).Select(i => -3f + 0.37f * i).ToArray();
        for (int n = 0; n <= 50; n++)
        {
            var result = Enumerable.Repeat(-1f, 60).ToArray();
            float sum = Exponential.ExpSum(x.AsSpan(0, n), 0.5f, -2f, result.AsSpan(0, n));
            double exact = 0;
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(Exponential.Exp(MathF.FusedMultiplyAdd(x[i], 0.5f, -2f)), result[i]);
                exact += result[i];
            }
            Assert.All(result[n..], r => Assert.Equal(-1f, r));
            Assert.Equal(exact, sum, Math.Max(1e-6, exact * 1e-6));
            // In place (result is x) gives the same values.
            var inPlace = x[..n];
            Assert.Equal(sum, Exponential.ExpSum(inPlace, 0.5f, -2f, inPlace));
            Assert.Equal(result[..n], inPlace);
        }
    }
}
