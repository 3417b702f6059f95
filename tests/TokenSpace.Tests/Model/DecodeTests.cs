using TokenSpace.Model;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Model;

public class DecodeTests
{
    /// <summary>Random weights at a scale where attention is far from uniform (0.02 would make every softmax flat).</summary>
    static Gpt Model(GptConfig config, bool training = false)
    {
        var model = new Gpt(config, training: training);
        model.Initialize(new Rng(3));
        new Rng(4).FillGaussian(model.Parameters, 0, 0.3);
        return model;
    }

    /// <summary>Every family with every position encoding.</summary>
    public static TheoryData<string, PositionKind> Families()
    {
        var data = new TheoryData<string, PositionKind>();
        foreach (string family in new[] { "gpt2", "microgpt", "wide" })
        {
            foreach (var positions in Enum.GetValues<PositionKind>()) data.Add(family, positions);
        }
        return data;
    }

    static GptConfig Config(string family) => family switch
    {
        "wide" => new GptConfig { VocabSize = 65, BlockSize = 40, Layers = 2, Heads = 4, Channels = 64, Bias = false },
        _ => GptTests.Tiny(family),
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Decode_EveryPosition_EqualsTheLastRowOfAFullForwardBitForBit(string family, PositionKind positions)
    {
        var config = Config(family) with { Positions = positions };
        var model = Model(config);
        var rng = new Rng(9);
        var ids = Enumerable.Range(0, config.BlockSize).Select(_ => rng.NextInt(config.VocabSize)).ToArray();
        var cache = model.NewCache();
        for (int t = 0; t < ids.Length; t++)
        {
            var decoded = model.Decode(cache, ids[t]).ToArray();
            model.Forward(ids.AsSpan(0, t + 1), [], 1, t + 1);
            Assert.Equal(model.Logits.Slice(t * config.VocabSize, config.VocabSize).ToArray(), decoded);
        }
        Assert.Equal(config.BlockSize, cache.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(cache, 0));
    }

    [Fact]
    public void Decode_BadToken_Throws()
    {
        var model = Model(GptTests.Tiny("gpt2"));
        var cache = model.NewCache();
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(cache, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(cache, -1));
        Assert.Equal(0, cache.Length);
    }

    [Theory]
    [InlineData(1.0f, 0, PositionKind.Learned)]
    [InlineData(0.8f, 5, PositionKind.Learned)]
    [InlineData(0f, 0, PositionKind.Learned)]
    [InlineData(1.0f, 0, PositionKind.Sinusoidal)]
    [InlineData(0.8f, 5, PositionKind.Rope)]
    [InlineData(1.0f, 0, PositionKind.Rope)]
    [InlineData(1.0f, 0, PositionKind.None)]
    public void Generate_WithAndWithoutCache_DrawTheSameTokens(float temperature, int topK, PositionKind positions)
    {
        // 100 tokens from a 40-position context: 39 through the cache, the rest past it, recomputing the shifted window.
        var model = Model(Config("wide") with { Positions = positions });
        int[] prompt = [3];

        var cached = Sampler.Generate(model, prompt, 100, temperature, topK, new Rng(11));
        var recomputed = Sampler.Generate(model, prompt, 100, temperature, topK, new Rng(11), kvCache: false);

        Assert.Equal(100, cached.Length);
        Assert.Equal(recomputed, cached);
        if (temperature > 0) Assert.True(cached.Distinct().Count() > 5, "the weights should give varied tokens");
    }

    [Fact]
    public void Gpt_ForInference_HasNoGradientsAndRefusesBackward()
    {
        var training = Model(Config("wide"), training: true);
        var inference = Model(Config("wide"));
        int[] ids = [1, 2, 3, 4];

        float expected = training.Forward(ids, [2, 3, 4, 5], 1, 4);
        float loss = inference.Forward(ids, [2, 3, 4, 5], 1, 4);

        Assert.Equal(expected, loss);
        Assert.Empty(inference.Gradients);
        Assert.False(inference.Training);
        Assert.Throws<InvalidOperationException>(inference.Backward);
    }
}
