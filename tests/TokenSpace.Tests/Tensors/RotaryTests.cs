using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

public class RotaryTests
{
    static float[] Random(int n, ulong seed)
    {
        var a = new float[n];
        new Rng(seed).FillGaussian(a, 0, 1);
        return a;
    }

    static (float[] Cos, float[] Sin) Tables(int T, int hs)
    {
        float[] cos = new float[T * hs / 2], sin = new float[T * hs / 2];
        Rotary.Table(cos, sin, T, hs);
        return (cos, sin);
    }

    // Half head sizes 1, 7, 8, 15, 16, 17 and 33: every vector width's tail runs (C = NH · hs).
    [Theory]
    [InlineData(1, 1, 2, 1)]
    [InlineData(2, 5, 14, 1)]
    [InlineData(1, 9, 32, 2)]
    [InlineData(2, 7, 60, 2)]
    [InlineData(1, 70, 128, 4)]
    [InlineData(3, 4, 102, 3)]
    [InlineData(1, 3, 66, 1)]
    public void ForwardAndBackward_RandomRows_MatchScalar(int B, int T, int C, int NH)
    {
        var (cos, sin) = Tables(T, C / NH);
        var qkv = Random(B * T * 3 * C, 1);
        var expected = (float[])qkv.Clone();
        Rotary.ForwardScalar(expected, B, T, C, NH);
        var actual = (float[])qkv.Clone();
        Rotary.Forward(actual, cos, sin, B, T, C, NH);
        AssertClose(expected, actual);
        Assert.Equal(qkv.AsSpan(2 * C, C).ToArray(), actual.AsSpan(2 * C, C).ToArray()); // v is not rotated
        Assert.Equal(qkv.AsSpan(0, C).ToArray(), actual.AsSpan(0, C).ToArray()); // position 0 is the identity

        var dQkv = Random(B * T * 3 * C, 2);
        expected = (float[])dQkv.Clone();
        Rotary.ForwardScalar(expected, B, T, C, NH, direction: -1);
        Rotary.Backward(dQkv, cos, sin, B, T, C, NH);
        AssertClose(expected, dQkv);
    }

    [Fact]
    public void Backward_IsTheTransposeOfForward()
    {
        // ⟨R x, g⟩ = ⟨x, Rᵀ g⟩ for the linear map R, which is what backward must compute.
        int B = 2, T = 6, C = 16, NH = 2;
        var (cos, sin) = Tables(T, C / NH);
        var x = Random(B * T * 3 * C, 3);
        var g = Random(B * T * 3 * C, 4);
        var rx = (float[])x.Clone();
        Rotary.Forward(rx, cos, sin, B, T, C, NH);
        var rtg = (float[])g.Clone();
        Rotary.Backward(rtg, cos, sin, B, T, C, NH);
        double left = rx.Select((v, i) => (double)v * g[i]).Sum(), right = x.Select((v, i) => (double)v * rtg[i]).Sum();
        Assert.Equal(left, right, 1e-4);
        Assert.NotEqual(x, rx);
    }

    [Fact]
    public void Forward_OneRowAtItsPosition_EqualsThatRowOfTheBatchBitForBit()
    {
        // Decoding rotates one row at start = t; it must give the bits of row t of a whole sequence.
        int T = 37, C = 96, NH = 3;
        var (cos, sin) = Tables(T, C / NH);
        var qkv = Random(T * 3 * C, 5);
        var whole = (float[])qkv.Clone();
        Rotary.Forward(whole, cos, sin, 1, T, C, NH);
        for (int t = 0; t < T; t++)
        {
            var row = qkv.AsSpan(t * 3 * C, 3 * C).ToArray();
            Rotary.Forward(row, cos, sin, 1, 1, C, NH, start: t);
            Assert.Equal(whole.AsSpan(t * 3 * C, 3 * C).ToArray(), row);
        }
    }

    [Fact]
    public void QueryKeyProduct_DependsOnlyOnTheDistance()
    {
        // RoPE's point: q(m)·k(n) depends on m − n, so the same vectors three positions apart score alike anywhere.
        int T = 40, C = 8, NH = 1;
        var (cos, sin) = Tables(T, C);
        var q = Random(C, 6);
        var k = Random(C, 7);
        double Score(int m, int n)
        {
            var rows = new float[T * 3 * C];
            q.CopyTo(rows, m * 3 * C);
            k.CopyTo(rows, n * 3 * C + C);
            Rotary.Forward(rows, cos, sin, 1, T, C, NH);
            return Enumerable.Range(0, C).Sum(i => (double)rows[m * 3 * C + i] * rows[n * 3 * C + C + i]);
        }
        Assert.Equal(Score(3, 0), Score(39, 36), 1e-5);
        Assert.Equal(Score(10, 10), Score(0, 0), 1e-5);
        Assert.NotEqual(Score(3, 0), Score(4, 0), 3);
    }

    [Fact]
    public void Table_OddHeadSizeOrShortTables_Throw()
    {
        Assert.Contains("even head size", Assert.Throws<ArgumentException>(() => Rotary.Table(new float[6], new float[6], 2, 3)).Message);
        Assert.Throws<ArgumentException>(() => Rotary.Table(new float[3], new float[4], 2, 4));
        var (cos, sin) = Tables(2, 4);
        Assert.Contains("up to 2", Assert.Throws<ArgumentException>(() => Rotary.Forward(new float[12], cos, sin, 1, 1, 4, 1, start: 2)).Message);
    }

    static void AssertClose(float[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }
}
