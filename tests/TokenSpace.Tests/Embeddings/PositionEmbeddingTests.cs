using TokenSpace.Embeddings;
using TokenSpace.Tensors;
using TokenSpace.Tests.Tensors;

namespace TokenSpace.Tests.Embeddings;

public class PositionEmbeddingTests
{
    [Fact]
    public void CreateSinusoidal_Values_FollowTheFormula()
    {
        var pe = PositionEmbedding.CreateSinusoidal(blockSize: 8, channels: 6);
        var w = pe.Weight.Span;
        Assert.False(pe.Learned);
        Assert.Equal(0f, w[0]);                                       // sin(0)
        Assert.Equal(1f, w[1]);                                       // cos(0)
        Assert.Equal((float)Math.Sin(3.0), w[3 * 6 + 0]);              // t = 3, i = 0
        Assert.Equal((float)Math.Cos(3.0 / Math.Pow(10000, 4.0 / 6)), w[3 * 6 + 5]);
    }

    [Fact]
    public void Backward_FiniteDifferences_MatchGradient()
    {
        const int B = 3, T = 4, C = 2;
        var wpe = PositionEmbedding.CreateLearned(blockSize: 5, channels: C);
        wpe.Initialize(EmbeddingInit.Gpt2Normal, new Rng(1));
        var x0 = EmbeddingTests.Random(B * T * C, seed: 2);
        var R = EmbeddingTests.Random(B * T * C, seed: 3);
        wpe.Backward(R, B, T);
        var weight = wpe.Weight.ToArray();
        Gradients.AssertMatchesFiniteDifferences(weight, wpe.Grad.ToArray(), () =>
        {
            var x = (float[])x0.Clone();
            new PositionEmbedding(weight, Memory<float>.Empty, 5, C).AddTo(x, B, T);
            double sum = 0;
            for (int i = 0; i < x.Length; i++) sum += (double)x[i] * R[i];
            return sum;
        });
        // Row 4 is past T: no gradient.
        Assert.Equal(new float[C], wpe.Grad.Span[(4 * C)..].ToArray());
    }

    [Fact]
    public void AddTo_TooLong_ThrowsNamingLimitAndWritesNothing()
    {
        var wpe = PositionEmbedding.CreateSinusoidal(blockSize: 4, channels: 2);
        var x = Enumerable.Repeat(3f, 2 * 5 * 2).ToArray();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => wpe.AddTo(x, B: 2, T: 5));
        Assert.Contains("sequence of length 5 > block_size 4: batch row 0, position 4", ex.Message, StringComparison.Ordinal);
        Assert.All(x, v => Assert.Equal(3f, v));
    }

    [Fact]
    public void Sinusoidal_BackwardAndInitialize_AreFixed()
    {
        var wpe = PositionEmbedding.CreateSinusoidal(blockSize: 4, channels: 2);
        var before = wpe.Weight.ToArray();
        wpe.Backward(new float[8], B: 1, T: 4);
        Assert.Equal(before, wpe.Weight.ToArray());
        Assert.Throws<InvalidOperationException>(() => wpe.Initialize(EmbeddingInit.Gpt2Normal, new Rng(1)));
    }
}
