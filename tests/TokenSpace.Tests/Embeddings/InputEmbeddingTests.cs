using TokenSpace.Embeddings;
using TokenSpace.Tensors;
using TokenSpace.Tests.Tensors;

namespace TokenSpace.Tests.Embeddings;

public class InputEmbeddingTests
{
    const int V = 13, C = 5, BlockSize = 6;

    static InputEmbedding Create(ulong seed)
    {
        var wte = new TokenEmbedding(V, C);
        wte.Initialize(EmbeddingInit.StandardNormal, new Rng(seed));
        var wpe = PositionEmbedding.CreateLearned(BlockSize, C);
        wpe.Initialize(EmbeddingInit.StandardNormal, new Rng(seed + 1));
        return new InputEmbedding(wte, wpe);
    }

    [Fact]
    public void Backward_FiniteDifferences_MatchBothGradients()
    {
        const int B = 2, T = 4;
        var layer = Create(1);
        int[] ids = [3, 3, 0, 12, 7, 3, 1, 0];
        var R = EmbeddingTests.Random(B * T * C, seed: 3);
        layer.Backward(R, ids, B, T);
        var wte = layer.Tokens.Weight.ToArray();
        var wpe = layer.Positions!.Weight.ToArray();
        double Loss()
        {
            var fresh = new InputEmbedding(new TokenEmbedding(wte, new float[V * C], V, C), new PositionEmbedding(wpe, new float[wpe.Length], BlockSize, C));
            var x = new float[B * T * C];
            fresh.Forward(x, ids, B, T);
            double sum = 0;
            for (int i = 0; i < x.Length; i++) sum += (double)x[i] * R[i];
            return sum;
        }
        Gradients.AssertMatchesFiniteDifferences(wte, layer.Tokens.Grad.ToArray(), Loss);
        Gradients.AssertMatchesFiniteDifferences(wpe, layer.Positions!.Grad.ToArray(), Loss);
    }

    [Fact]
    public void ForwardBackward_OneHotTimesLinear_EqualExactly()
    {
        // x = onehot(ids)·wte + onehot(t)·wpe; both products and both gradients are exact (see TokenEmbeddingTests).
        const int B = 3, T = 5;
        var layer = Create(4);
        var ids = EmbeddingTests.Ids(B * T, V, seed: 5);
        var dOut = EmbeddingTests.Random(B * T * C, seed: 6);
        var x = new float[B * T * C];
        layer.Forward(x, ids, B, T);
        layer.Backward(dOut, ids, B, T);

        var positions = Enumerable.Range(0, B * T).Select(i => i % T).ToArray();
        var (tokens, dwte) = TokenEmbeddingTests.OneHotLinear(layer.Tokens.Weight.ToArray(), ids, dOut, V, C);
        var (places, dwpe) = TokenEmbeddingTests.OneHotLinear(layer.Positions!.Weight.ToArray(), positions, dOut, BlockSize, C);
        Assert.Equal(x, tokens.Zip(places, (a, b) => a + b).ToArray());
        Assert.Equal(layer.Tokens.Grad.ToArray(), dwte);
        Assert.Equal(layer.Positions!.Grad.ToArray(), dwpe);
    }

    [Fact]
    public void Forward_TooLongOrBadId_ThrowsAndWritesNothing()
    {
        var layer = Create(7);
        var x = Enumerable.Repeat(9f, 1 * 7 * C).ToArray();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(x, new int[7], B: 1, T: 7));
        Assert.Contains("block_size 6", ex.Message, StringComparison.Ordinal);
        Assert.All(x, v => Assert.Equal(9f, v));

        var y = Enumerable.Repeat(9f, 2 * 3 * C).ToArray();
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(y, [0, 1, 2, 3, 4, 13], B: 2, T: 3));
        Assert.Contains("token id 13 at batch row 1, position 2 is outside [0, 13)", ex.Message, StringComparison.Ordinal);
        Assert.All(y, v => Assert.Equal(9f, v));
    }

    [Fact]
    public void ForwardBackward_WithoutPositions_AreTheTokenEmbeddingAlone()
    {
        const int B = 2, T = 4;
        var tokens = new TokenEmbedding(V, C);
        tokens.Initialize(EmbeddingInit.StandardNormal, new Rng(8));
        var layer = new InputEmbedding(tokens, null);
        var ids = EmbeddingTests.Ids(B * T, V, seed: 9);
        var dOut = EmbeddingTests.Random(B * T * C, seed: 10);
        var x = new float[B * T * C];
        layer.Forward(x, ids, B, T);
        layer.Backward(dOut, ids, B, T);

        var (expected, dwte) = TokenEmbeddingTests.OneHotLinear(tokens.Weight.ToArray(), ids, dOut, V, C);
        Assert.Equal(expected, x);
        Assert.Equal(dwte, tokens.Grad.ToArray());
    }
}
