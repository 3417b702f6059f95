using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

public class GptKernelTests
{
    static float[] Random(int n, ulong seed, double std = 1)
    {
        var a = new float[n];
        new Rng(seed).FillGaussian(a, 0, std);
        return a;
    }

    static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tol)
    {
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(17, 16)]
    [InlineData(40, 33)]
    [InlineData(300, 128)]
    public void LayerNormAndRmsNorm_Forward_MatchScalar(int N, int C)
    {
        var x = Random(N * C, 1, 3);
        var w = Random(C, 2);
        var b = Random(C, 3);
        var expected = new float[N * C];
        var actual = new float[N * C];
        LayerNorm.ForwardScalar(expected, x, w, b, N, C, 1e-5f);
        LayerNorm.Forward(actual, new float[N], new float[N], x, w, b, N, C, 1e-5f);
        Close(expected, actual, 2e-5f);
        RmsNorm.ForwardScalar(expected, x, N, C, 1e-5f);
        RmsNorm.Forward(actual, new float[N], x, N, C, 1e-5f);
        Close(expected, actual, 2e-5f);
    }

    [Theory]
    [InlineData(3, 19, true)]
    [InlineData(4, 32, false)]
    public void LayerNorm_Backward_MatchesFiniteDifferences(int N, int C, bool affine)
    {
        var x = Random(N * C, 11, 2);
        float[] w = affine ? Random(C, 12) : [], b = affine ? Random(C, 13) : [];
        var g = Random(N * C, 14);
        // L = Σ out · g through the double-precision scalar forward, by central differences.
        double Loss(float[] xs, float[] ws, float[] bs)
        {
            var o = new float[N * C];
            LayerNorm.ForwardScalar(o, xs, ws, bs, N, C, 1e-5f);
            return o.Select((v, i) => (double)v * g[i]).Sum();
        }
        double Fd(float[] t, int i)
        {
            const float h = 1e-2f;
            float saved = t[i];
            t[i] = saved + h;
            double up = Loss(x, w, b);
            t[i] = saved - h;
            double down = Loss(x, w, b);
            t[i] = saved;
            return (up - down) / (2 * h);
        }
        var dx = Random(N * C, 15);
        var dx0 = (float[])dx.Clone();
        var dw = new float[w.Length];
        var db = new float[b.Length];
        var mean = new float[N];
        var rstd = new float[N];
        LayerNorm.Forward(new float[N * C], mean, rstd, x, w, b, N, C, 1e-5f);
        LayerNorm.Backward(dx, dw, db, g, x, w, mean, rstd, N, C);
        for (int i = 0; i < N * C; i++) Assert.Equal(Fd(x, i), dx[i] - dx0[i], 2e-3);
        for (int c = 0; c < w.Length; c++)
        {
            Assert.Equal(Fd(w, c), dw[c], 2e-3);
            Assert.Equal(Fd(b, c), db[c], 2e-3);
        }
    }

    [Theory]
    [InlineData(1, 1, 4, 1)]
    [InlineData(2, 5, 8, 2)]
    [InlineData(3, 16, 16, 4)]
    [InlineData(4, 64, 64, 4)]
    [InlineData(1, 130, 96, 3)]
    [InlineData(1, 50, 192, 6)]
    public void Attention_Forward_MatchesScalarAndIsCausal(int B, int T, int C, int NH)
    {
        var qkv = Random(B * T * 3 * C, 4);
        var expected = new float[B * T * C];
        var actual = new float[B * T * C];
        var att = new float[B * NH * T * T];
        Attention.ForwardScalar(expected, qkv, B, T, C, NH);
        Attention.Forward(actual, att, qkv, B, T, C, NH);
        Close(expected, actual, 1e-5f);
        // Rows sum to one and, in a buffer that started zeroed, nothing lies above the diagonal.
        for (int r = 0; r < B * NH * T; r++)
        {
            int t = r % T;
            Assert.Equal(1f, att.AsSpan(r * T, t + 1).ToArray().Sum(), 1e-5f);
            Assert.All(att.AsSpan(r * T + t + 1, T - t - 1).ToArray(), a => Assert.Equal(0f, a));
        }
    }

    [Theory]
    [InlineData(1, 1, 4, 1, false)]
    [InlineData(2, 5, 8, 2, true)]
    [InlineData(2, 25, 16, 4, false)]
    [InlineData(1, 67, 96, 3, true)]
    [InlineData(2, 40, 192, 6, false)]
    public void Attention_Backward_MatchesScalar(int B, int T, int C, int NH, bool dropout)
    {
        var qkv = Random(B * T * 3 * C, 5);
        var dOut = Random(B * T * C, 6);
        var mask = dropout ? new float[B * NH * T * T] : [];
        if (dropout) Dropout.FillMask(mask, 0.3f, 7);
        var att = new float[B * NH * T * T];
        Attention.Forward(new float[B * T * C], att, qkv, B, T, C, NH, mask);
        // The oracle accumulates into zeros; the kernel overwrites, so whatever the buffer held must not show.
        var expected = new float[B * T * 3 * C];
        var actual = Enumerable.Repeat(float.NaN, B * T * 3 * C).ToArray();
        Attention.BackwardScalar(expected, dOut, qkv, B, T, C, NH, mask);
        Attention.Backward(actual, dOut, qkv, att, B, T, C, NH, mask);
        Close(expected, actual, 2e-5f);
    }

    [Fact]
    public void Gelu_ForwardAndBackward_MatchScalarAndDerivative()
    {
        float[] x = [-10f, -3f, -0.5f, 0f, 1e-3f, 0.7f, 2f, 9f, 50f];
        var y = new float[x.Length];
        Gelu.Forward(y, x);
        var dx = new float[x.Length];
        Gelu.Backward(dx, x, Enumerable.Repeat(1f, x.Length).ToArray());
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(Gelu.Scalar(x[i]), y[i], 1e-5);
            double h = 1e-4, fd = (Gelu.Scalar(x[i] + h) - Gelu.Scalar(x[i] - h)) / (2 * h);
            Assert.Equal(fd, dx[i], 1e-4);
        }
    }

    [Fact]
    public void Gelu_LongInput_MatchesScalarInEveryLane()
    {
        // 1001 values: whole vectors, then a tail; from deep saturation on both sides through zero.
        var x = Enumerable.Range(0, 1001).Select(i => -15f + 30f * i / 1000).ToArray();
        var y = new float[x.Length];
        var dx = Enumerable.Repeat(0.5f, x.Length).ToArray();
        Gelu.Forward(y, x);
        Gelu.Backward(dx, x, Enumerable.Repeat(2f, x.Length).ToArray());
        // Overwriting ignores what the destination held.
        var overwritten = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Gelu.Backward(overwritten, x, Enumerable.Repeat(2f, x.Length).ToArray(), accumulate: false);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(Gelu.Scalar(x[i]), y[i], 2e-5 * (1 + Math.Abs(x[i])));
            double h = 1e-4, fd = (Gelu.Scalar(x[i] + h) - Gelu.Scalar(x[i] - h)) / (2 * h);
            Assert.Equal(0.5 + 2 * fd, dx[i], 2e-4);
            Assert.Equal(2 * fd, overwritten[i], 2e-4);
        }
    }

    [Fact]
    public void Gelu_VectorLanes_EqualTheScalarTailExactly()
    {
        // One element runs the scalar tail; 1001 run whole vectors (512-bit ones where AVX-512 runs, then Vector<float>) first.
        var x = Random(1001, 13, std: 3);
        var dOut = Random(1001, 14);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        Gelu.Forward(y, x);
        Gelu.Backward(dx, x, dOut, accumulate: false);
        var one = new float[1];
        for (int i = 0; i < x.Length; i++)
        {
            Gelu.Forward(one, x.AsSpan(i, 1));
            Assert.Equal(one[0], y[i]);
            Gelu.Backward(one, x.AsSpan(i, 1), dOut.AsSpan(i, 1), accumulate: false);
            Assert.Equal(one[0], dx[i]);
        }
    }

    [Fact]
    public void ActivationBackward_InPlace_EqualsSeparateBuffers()
    {
        var x = Random(1001, 11, std: 2);
        var dOut = Random(1001, 12);
        var separate = new float[x.Length];
        Gelu.Backward(separate, x, dOut, accumulate: false);
        var inPlace = (float[])dOut.Clone();
        Gelu.Backward(inPlace, x, inPlace, accumulate: false);
        Assert.Equal(separate, inPlace);

        // ReLU: dOut where x > 0 (0 at x = 0, as PyTorch), added or written.
        x[0] = 0f;
        var relu = (float[])dOut.Clone();
        Relu.Backward(relu, x, relu, accumulate: false);
        var added = Enumerable.Repeat(1f, x.Length).ToArray();
        Relu.Backward(added, x, dOut);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i] > 0 ? dOut[i] : 0f, relu[i]);
            Assert.Equal(1f + (x[i] > 0 ? dOut[i] : 0f), added[i]);
        }
    }

    [Fact]
    public void CrossEntropy_ConfidentLogits_StaysFiniteAndIgnoresPadding()
    {
        float[] logits = [1000f, 0f, -1000f, 0f, 0f, 0f, 5f, 5f, 5f];
        int[] targets = [2, 1, CrossEntropy.Ignore];
        var probs = new float[9];
        var losses = new float[3];
        var (mean, count) = CrossEntropy.Forward(probs, losses, logits, targets, 3, 3);
        Assert.Equal(2, count);
        Assert.Equal(2000f, losses[0]);
        Assert.Equal(MathF.Log(3), losses[1], 1e-6f);
        Assert.Equal((2000 + Math.Log(3)) / 2, mean, 1e-3);
        var d = new float[9];
        CrossEntropy.Backward(d, probs, targets, 0.5f, 3, 3);
        Assert.Equal([0.5f, 0f, -0.5f], d[..3]);
        Assert.Equal([0f, 0f, 0f], d[6..]);
    }

    [Fact]
    public void CrossEntropy_VocabularyRows_MatchDoubleOracle()
    {
        // Rows long enough for the vector loop and a tail (V = 1003), one of them far from zero and one with a masked (−∞) logit.
        const int N = 5, V = 1003;
        var logits = new float[N * V];
        new Rng(11).FillGaussian(logits, 0, 3);
        for (int v = 0; v < V; v++) logits[V + v] += 500f;
        logits[2 * V + 17] = float.NegativeInfinity;
        int[] targets = [0, 1002, 17, 500, 999];
        var probs = new float[N * V];
        var losses = new float[N];
        CrossEntropy.Forward(probs, losses, logits, targets, N, V);
        for (int n = 0; n < N; n++)
        {
            var row = logits.AsSpan(n * V, V).ToArray();
            double max = row.Max(), sum = row.Sum(z => Math.Exp(z - max));
            for (int v = 0; v < V; v++) Assert.Equal(Math.Exp(row[v] - max) / sum, probs[n * V + v], 1e-6 * (Math.Exp(row[v] - max) / sum) + 1e-12);
            double loss = max + Math.Log(sum) - row[targets[n]];
            Assert.Equal(loss, losses[n], 1e-5 * Math.Abs(loss) + 1e-6);
        }
        Assert.Equal(0f, probs[2 * V + 17]);
        Assert.Equal(float.PositiveInfinity, losses[2]);
    }

    [Fact]
    public void Dropout_Mask_DropsAboutPAndScalesSurvivors()
    {
        var mask = new float[100_000];
        Dropout.FillMask(mask, 0.2f, 5);
        int dropped = mask.Count(m => m == 0f);
        Assert.InRange(dropped, 19_500, 20_500);
        Assert.All(mask, m => Assert.True(m == 0f || m == 1.25f));
        var again = new float[100_000];
        Dropout.FillMask(again, 0.2f, 5);
        Assert.Equal(mask, again);
        Dropout.FillMask(again, 0.2f, 6);
        Assert.NotEqual(mask, again);
    }
}
