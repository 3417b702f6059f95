using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

[Collection(ProcessWideState.Name)]
public class MatMulTests
{
    // Fast and scalar paths sum in the same order but the fast one fuses each multiply-add (one
    // rounding instead of two), so they agree to a few ulps of the sum's magnitude, not bit for bit.
    const double RelativeTolerance = 1e-5;

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 0, 5, 3 }, { 1, 1, 1 }, { 1, 7, 8 }, { 7, 8, 15 }, { 8, 15, 16 }, { 15, 16, 17 }, { 16, 17, 31 },
        { 17, 31, 33 }, { 31, 33, 7 }, { 33, 1023, 5 }, { 5, 1, 1023 }, { 3, 0, 4 }, { 50, 300, 70 }, { 97, 9, 65 },
        // C a whole number of panels at every width: no partial panel in the backward products.
        { 20, 64, 24 }, { 9, 96, 40 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_OddShapes_MatchesScalar(int N, int C, int OC)
    {
        var (input, weight, bias) = Operands(N, C, OC, seed: 1);
        var expected = new float[N * OC];
        MatMul.ForwardScalar(expected, input, weight, bias, N, C, OC);
        var actual = new float[N * OC];
        MatMul.Forward(actual, input, weight, bias, N, C, OC);
        AssertClose(expected, actual, AbsScale(input, weight, N, C, OC));

        MatMul.ForwardScalar(expected, input, weight, [], N, C, OC);
        MatMul.Forward(actual, input, weight, [], N, C, OC);
        AssertClose(expected, actual, AbsScale(input, weight, N, C, OC));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_OddShapes_MatchesScalar(int N, int C, int OC)
    {
        var (input, weight, _) = Operands(N, C, OC, seed: 2);
        var rng = new Rng(3);
        var dOut = new float[N * OC];
        rng.FillGaussian(dOut, 0, 1);
        // Start from non-zero gradients: Backward accumulates.
        var start = new float[N * C + OC * C + OC];
        rng.FillGaussian(start, 0, 1);
        float[] dIn1 = start[..(N * C)], dW1 = start[(N * C)..(N * C + OC * C)], dB1 = start[(N * C + OC * C)..];
        float[] dIn2 = (float[])dIn1.Clone(), dW2 = (float[])dW1.Clone(), dB2 = (float[])dB1.Clone();
        MatMul.BackwardScalar(dIn1, dW1, dB1, dOut, input, weight, N, C, OC);
        MatMul.Backward(dIn2, dW2, dB2, dOut, input, weight, N, C, OC);
        AssertClose(dIn1, dIn2, 1 + AbsScale(dOut, weight, N, OC, C));
        AssertClose(dW1, dW2, 1 + AbsScale(dOut, input, OC, N, C));
        // dBias adds rows in the same order with plain additions: exact.
        Assert.Equal(dB1, dB2);
    }

    [Theory]
    [InlineData(37, 45, 53)]
    [InlineData(37, 64, 53)]
    public void Gemm_EveryVectorWidth_MatchesScalar(int N, int C, int OC)
    {
        // Each width the CPU runs, on the access patterns MatMul uses (transposing pack for the forward,
        // row-copy pack, at C = 64 with no partial panel, and strided A for the two backward products).
        var (input, weight, bias) = Operands(N, C, OC, seed: 4);
        var dOut = new float[N * OC];
        new Rng(40).FillGaussian(dOut, 0, 1);
        var output = new float[N * OC];
        var dIn = new float[N * C];
        var dW = new float[OC * C];
        MatMul.ForwardScalar(output, input, weight, bias, N, C, OC);
        MatMul.BackwardScalar(dIn, dW, [], dOut, input, weight, N, C, OC);
        float[] expected = [.. output, .. dIn, .. dW];
        float scale = 1 + AbsScale(dOut, input, OC, N, C) + AbsScale(input, weight, N, C, OC) + AbsScale(dOut, weight, N, OC, C);
        AssertClose(expected, Layer<float, OpsScalar>(input, weight, bias, dOut, N, C, OC), scale);
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported) AssertClose(expected, Layer<Vector256<float>, Ops256>(input, weight, bias, dOut, N, C, OC), scale);
        if (Vector512.IsHardwareAccelerated) AssertClose(expected, Layer<Vector512<float>, Ops512>(input, weight, bias, dOut, N, C, OC), scale);
    }

    [Theory]
    // Units of four vectors of columns at each width (16 or 32 at 256 bits, 64 at 512) and a narrower last unit, or none.
    [InlineData(300, 1)]
    [InlineData(300, 64)]
    [InlineData(300, 65)]
    [InlineData(301, 200)]
    public unsafe void BiasBackward_EveryVectorWidth_EqualsTheOracleExactly(int N, int OC)
    {
        // Each column is one chain of plain additions in increasing n from the value dBias held, at every width.
        var rng = new Rng(11);
        var dOut = new float[N * OC];
        rng.FillGaussian(dOut, 0, 1);
        var start = new float[OC];
        rng.FillGaussian(start, 0, 1);
        var expected = (float[])start.Clone();
        MatMul.BackwardScalar([], [], expected, dOut, new float[N], new float[OC], N, 1, OC);
        fixed (float* pDout = dOut)
        {
            Assert.Equal(expected, BiasSums<float, OpsScalar>(start, pDout, N, OC));
            if (Vector256.IsHardwareAccelerated) Assert.Equal(expected, BiasSums<Vector256<float>, Ops256>(start, pDout, N, OC));
            if (Vector512.IsHardwareAccelerated) Assert.Equal(expected, BiasSums<Vector512<float>, Ops512>(start, pDout, N, OC));
        }
    }

    static unsafe float[] BiasSums<TVec, TOps>(float[] start, float* dOut, int N, int OC)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        var dBias = (float[])start.Clone();
        fixed (float* pDb = dBias) MatMul.BiasBackward<TVec, TOps>(pDb, dOut, N, OC);
        return dBias;
    }

    [Theory]
    [InlineData(17, 31, 33)]
    [InlineData(50, 64, 70)]
    public void Backward_OverwritingInput_IgnoresWhatDInputHeld(int N, int C, int OC)
    {
        var (input, weight, _) = Operands(N, C, OC, seed: 8);
        var dOut = new float[N * OC];
        new Rng(9).FillGaussian(dOut, 0, 1);
        var expected = new float[N * C];
        MatMul.BackwardScalar(expected, [], [], dOut, input, weight, N, C, OC);
        var actual = Enumerable.Repeat(float.NaN, N * C).ToArray();
        MatMul.Backward(actual, [], [], dOut, input, weight, N, C, OC, accumulateInput: false);
        AssertClose(expected, actual, 1 + AbsScale(dOut, weight, N, OC, C));
    }

    [Theory]
    // C = 300 holds whole scalar panels (NR = 2): dInput and dW read B in place.
    [InlineData(13, 300, 11)]
    // dW packs A (OC ≥ 1024), its K (= N) spans two KC slices and its 1030 rows end in a partial block: the packed slices of A
    // must line up with the panels.
    [InlineData(600, 9, 1030)]
    public void Gemm_ScalarOps_EqualsOracleExactly(int N, int C, int OC)
    {
        // The scalar width multiplies then adds in the oracle's order, so it is the oracle, bit for bit.
        var (input, weight, bias) = Operands(N, C, OC, seed: 5);
        var expected = new float[N * OC];
        MatMul.ForwardScalar(expected, input, weight, bias, N, C, OC);
        var dOut = new float[N * OC];
        var dIn = new float[N * C];
        var dW = new float[OC * C];
        new Rng(50).FillGaussian(dOut, 0, 1);
        MatMul.BackwardScalar(dIn, dW, [], dOut, input, weight, N, C, OC);
        Assert.Equal([.. expected, .. dIn, .. dW], Layer<float, OpsScalar>(input, weight, bias, dOut, N, C, OC));
    }

    [Theory]
    // Few output blocks: cut to six-row blocks for the threads.
    [InlineData(37, 45, 53)]
    // Forward and dInput read rows 4 KB apart (C = OC = 1024): tiles of six rows; dW's A, read down its columns 4 KB apart,
    // is packed into twelve-row tiles.
    [InlineData(30, 1024, 1024)]
    // 600 rows: fifty twelve-row tiles in dInput; dW packs A over two KC slices and its 1030 rows end in a partial block.
    [InlineData(600, 9, 1030)]
    // K past a k slice with a small output: Run cuts the product along k and each chain continues across the cut, in dW
    // (accumulating, K = N = 2100) and in the forward (from the bias, K = C = 2100).
    [InlineData(2100, 5, 7)]
    [InlineData(6, 2100, 6)]
    // C = 64 holds whole panels: dInput reads the weight in place and dW the input, its K (= N = 600) across two KC slices.
    [InlineData(600, 64, 70)]
    // dW's 100 rows over 4 panels make few blocks: rows cut to 24 (two wide tiles), the last block 4 rows.
    [InlineData(600, 128, 100)]
    public void Gemm_FusedWidths_EqualTheFusedChainExactly(int N, int C, int OC)
    {
        // Each output is one chain of fused multiply-adds in increasing k from its initial value, at every SIMD width and tile
        // height, so the widths equal that chain computed one element at a time, bit for bit.
        var (input, weight, bias) = Operands(N, C, OC, seed: 7);
        var dOut = new float[N * OC];
        new Rng(70).FillGaussian(dOut, 0, 1);
        var output = new float[N * OC];
        var dIn = new float[N * C];
        var dW = new float[OC * C];
        for (int n = 0; n < N; n++)
        {
            for (int o = 0; o < OC; o++)
            {
                float y = bias[o];
                for (int c = 0; c < C; c++) y = MathF.FusedMultiplyAdd(input[n * C + c], weight[o * C + c], y);
                output[n * OC + o] = y;
            }
            for (int c = 0; c < C; c++)
            {
                float d = 0;
                for (int o = 0; o < OC; o++) d = MathF.FusedMultiplyAdd(dOut[n * OC + o], weight[o * C + c], d);
                dIn[n * C + c] = d;
            }
        }
        for (int o = 0; o < OC; o++)
        {
            for (int c = 0; c < C; c++)
            {
                float d = 0;
                for (int n = 0; n < N; n++) d = MathF.FusedMultiplyAdd(dOut[n * OC + o], input[n * C + c], d);
                dW[o * C + c] = d;
            }
        }
        float[] expected = [.. output, .. dIn, .. dW];
        Assert.True(Vector256.IsHardwareAccelerated && Fma.IsSupported, "the fast paths need AVX2 with FMA");
        Assert.Equal(expected, Layer<Vector256<float>, Ops256>(input, weight, bias, dOut, N, C, OC));
        if (Vector512.IsHardwareAccelerated) Assert.Equal(expected, Layer<Vector512<float>, Ops512>(input, weight, bias, dOut, N, C, OC));
    }

    [Theory]
    // B read in place (its rows hold whole panels and lie at most 512 floats apart), over one KC slice and across two.
    [InlineData(37, 45, 64, 64)]
    [InlineData(37, 600, 96, 130)]
    // B packed: its rows lie further apart, or do not hold whole panels.
    [InlineData(20, 30, 64, 700)]
    [InlineData(20, 30, 50, 50)]
    public unsafe void Gemm_RowMajorB_EqualsTheFusedChainExactly(int M, int K, int Ncols, int bK)
    {
        var rng = new Rng(11);
        var a = new float[M * K];
        var b = new float[K * bK];
        var bias = new float[Ncols];
        rng.FillGaussian(a, 0, 1);
        rng.FillGaussian(b, 0, 1);
        rng.FillGaussian(bias, 0, 1);
        var expected = new float[M * Ncols];
        for (int m = 0; m < M; m++)
        {
            for (int j = 0; j < Ncols; j++)
            {
                float y = bias[j];
                for (int k = 0; k < K; k++) y = MathF.FusedMultiplyAdd(a[m * K + k], b[k * bK + j], y);
                expected[m * Ncols + j] = y;
            }
        }
        float[] Product<TVec, TOps>() where TVec : unmanaged where TOps : IVectorOps<TVec>
        {
            var output = new float[M * Ncols];
            fixed (float* o = output, pa = a, pb = b, pBias = bias)
                Gemm.Run<TVec, TOps>(o, Ncols, pa, K, 1, pb, bK, 1, pBias, accumulate: false, M, K, Ncols);
            return output;
        }
        Assert.Equal(expected, Product<Vector256<float>, Ops256>());
        if (Vector512.IsHardwareAccelerated) Assert.Equal(expected, Product<Vector512<float>, Ops512>());
    }

    [Fact]
    public void ForwardBackward_OneAndTwoThreads_BitIdentical()
    {
        const int N = 101, C = 70, OC = 90;
        var (input, weight, bias) = Operands(N, C, OC, seed: 6);
        var dOut = new float[N * OC];
        new Rng(7).FillGaussian(dOut, 0, 1);
        var results = new List<float[]>();
        int saved = Threads.Count;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Threads.Count = threads;
                var output = new float[N * OC];
                var dIn = new float[N * C];
                var dW = new float[OC * C];
                var dB = new float[OC];
                MatMul.Forward(output, input, weight, bias, N, C, OC);
                MatMul.Backward(dIn, dW, dB, dOut, input, weight, N, C, OC);
                results.Add([.. output, .. dIn, .. dW, .. dB]);
            }
        }
        finally
        {
            Threads.Count = saved;
        }
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public void Backward_FiniteDifferences_MatchGradients()
    {
        // Loss L = Σ out · R for a fixed random R, so dL/dout = R; central differences in double.
        const int N = 4, C = 5, OC = 3;
        var (input, weight, bias) = Operands(N, C, OC, seed: 8);
        var R = new float[N * OC];
        new Rng(9).FillGaussian(R, 0, 1);
        var dIn = new float[N * C];
        var dW = new float[OC * C];
        var dB = new float[OC];
        MatMul.Backward(dIn, dW, dB, R, input, weight, N, C, OC);

        double Loss()
        {
            var output = new float[N * OC];
            MatMul.Forward(output, input, weight, bias, N, C, OC);
            double sum = 0;
            for (int i = 0; i < output.Length; i++) sum += (double)output[i] * R[i];
            return sum;
        }
        Gradients.AssertMatchesFiniteDifferences(input, dIn, Loss);
        Gradients.AssertMatchesFiniteDifferences(weight, dW, Loss);
        Gradients.AssertMatchesFiniteDifferences(bias, dB, Loss);
    }

    [Fact]
    public void Forward_WrongLength_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => MatMul.Forward(new float[6], new float[6], new float[8], [], 2, 3, 3));
        Assert.Contains("weight has 8 elements, expected 9", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Forward output, dInput and dWeight at one vector width, with the same operands as <see cref="MatMul"/>.</summary>
    static unsafe float[] Layer<TVec, TOps>(float[] input, float[] weight, float[] bias, float[] dOut, int N, int C, int OC)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        var output = new float[N * OC];
        var dIn = new float[N * C];
        var dW = new float[OC * C];
        fixed (float* o = output, x = input, w = weight, b = bias, g = dOut, pdIn = dIn, pdW = dW)
        {
            Gemm.Run<TVec, TOps>(o, OC, x, C, 1, w, 1, C, b, accumulate: false, N, C, OC);
            Gemm.Run<TVec, TOps>(pdIn, C, g, OC, 1, w, C, 1, null, accumulate: true, N, OC, C);
            Gemm.Run<TVec, TOps>(pdW, C, g, 1, OC, x, C, 1, null, accumulate: true, OC, N, C);
        }
        return [.. output, .. dIn, .. dW];
    }

    static (float[] Input, float[] Weight, float[] Bias) Operands(int N, int C, int OC, ulong seed)
    {
        var rng = new Rng(seed);
        var input = new float[N * C];
        var weight = new float[OC * C];
        var bias = new float[OC];
        rng.FillGaussian(input, 0, 1);
        rng.FillGaussian(weight, 0, 1);
        rng.FillGaussian(bias, 0, 1);
        return (input, weight, bias);
    }

    /// <summary>The largest Σ_k |a[m,k]·b[j,k]|: the scale a float sum's rounding error is relative to.</summary>
    static float AbsScale(float[] a, float[] b, int M, int K, int J)
    {
        // Bounded by max|a| · max|b| · K, which is cheap and never smaller than the true scale.
        float maxA = a.Length == 0 ? 0 : a.Max(Math.Abs), maxB = b.Length == 0 ? 0 : b.Max(Math.Abs);
        return 1 + maxA * maxB * K;
    }

    static void AssertClose(float[] expected, float[] actual, float scale)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= RelativeTolerance * scale, $"[{i}] expected {expected[i]}, got {actual[i]} (|diff| {diff:G3} > {RelativeTolerance} × {scale})");
        }
    }

    [Theory]
    [InlineData(1, 8, 3, true)]
    [InlineData(1, 128, 384, true)]
    [InlineData(1, 33, 65, false)]
    [InlineData(5, 17, 40, true)]
    public void ForwardPacked_AnyShape_EqualsForwardBitForBit(int N, int C, int OC, bool bias)
    {
        var rng = new Rng((ulong)(N * 1000 + C + OC));
        var input = new float[N * C];
        var weight = new float[OC * C];
        var b = new float[bias ? OC : 0];
        rng.FillGaussian(input, 0, 1);
        rng.FillGaussian(weight, 0, 1);
        rng.FillGaussian(b, 0, 1);
        var expected = new float[N * OC];
        var actual = new float[N * OC];

        MatMul.Forward(expected, input, weight, b, N, C, OC);
        MatMul.ForwardPacked(actual, input, MatMul.Pack(weight, C, OC), b, N, C, OC);

        Assert.Equal(expected, actual);
    }
}
