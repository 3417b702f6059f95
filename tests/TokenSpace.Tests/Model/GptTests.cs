using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Model;

public class GptTests
{
    internal static GptConfig Tiny(string family) => family == "gpt2"
        ? new GptConfig { VocabSize = 7, BlockSize = 6, Layers = 2, Heads = 2, Channels = 8 }
        : GptConfig.MicroGpt(7) with { BlockSize = 6, Layers = 2, Heads = 2, Channels = 8 };

    /// <summary>
    /// Golden test: tools/reference/gpt_golden.py builds the same tiny models in PyTorch (float64) from the
    /// same float32 weights. Tolerance: logits and loss within 2e-5 absolute, every gradient within 2e-5
    /// absolute + 1e-3 relative (float32 accumulation over C = 8 … 4C = 32 terms).
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("microgpt")]
    [InlineData("sinusoidal")]
    [InlineData("rope")]
    public void ForwardBackward_GoldenWeights_MatchPyTorch(string family)
    {
        string path = TestData.Golden($"gpt_{family}.safetensors");
        var config = Checkpoint.ReadConfigFile(TestData.Golden($"gpt_{family}.json"));
        var golden = SafetensorsFile.Open(path);
        var shape = golden.Entries["input_ids"].Shape;
        int B = (int)shape[0], T = (int)shape[1];
        var model = new Gpt(config, B, T);
        Checkpoint.ReadModel(path, model, allowExtra: true);
        int[] ids = [.. golden.ReadFloat32("input_ids").Select(x => (int)x)];
        int[] targets = [.. golden.ReadFloat32("targets").Select(x => (int)x)];

        float loss = model.Forward(ids, targets, B, T);
        model.Backward();

        Assert.Equal(golden.ReadFloat32("loss")[0], loss, 2e-5f);
        AssertClose(golden.ReadFloat32("logits"), model.Logits, 2e-5f, 0, "logits");
        foreach (var s in model.Slices)
        {
            var expected = golden.ReadFloat32("grad." + s.Name);
            if (s.Conv1D) expected = Checkpoint.Transpose(expected, s.Shape[1], s.Shape[0]);
            AssertClose(expected, model.Gradients.AsSpan(s.Offset, s.Length), 2e-5f, 1e-3f, s.Name);
        }
    }

    /// <summary>
    /// Every gradient against a central finite difference of the float32 loss. h = 1e-3 keeps ReLU kinks
    /// out of ±h; float32 rounding of the loss (~2e-7) makes the FD noise about 1e-4, hence
    /// |fd − g| ≤ 1e-3 + 2e-2·|g|. Padding (ignored targets) included. The golden test is the tight check.
    /// Rotary and absent positions run on the GELU family: with these weights one of microgpt's ReLUs then sits within ±h of
    /// its kink (the misses are that hidden unit's c_fc row and what feeds it), which says nothing about the positions.
    /// </summary>
    [Theory]
    [InlineData("gpt2", PositionKind.Learned)]
    [InlineData("gpt2", PositionKind.Sinusoidal)]
    [InlineData("gpt2", PositionKind.Rope)]
    [InlineData("gpt2", PositionKind.None)]
    [InlineData("microgpt", PositionKind.Learned)]
    [InlineData("microgpt", PositionKind.Sinusoidal)]
    public void Backward_EveryParameter_MatchesFiniteDifferences(string family, PositionKind positions)
    {
        var model = new Gpt(Tiny(family) with { Positions = positions }, 2, 5);
        model.Initialize(new Rng(7));
        var rng = new Rng(8);
        // Larger weights than at init, so every path carries gradient worth checking.
        for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] += (float)rng.NextGaussian(0, 0.3);
        int[] ids = [6, 1, 2, 3, 4, 6, 5, 0, 6, 6];
        int[] targets = [1, 2, 3, 4, 6, 5, 0, 6, CrossEntropy.Ignore, CrossEntropy.Ignore];
        model.ZeroGrad();
        model.Forward(ids, targets, 2, 5);
        model.Backward();
        var analytic = (float[])model.Gradients.Clone();
        const float h = 1e-3f;
        for (int i = 0; i < model.Parameters.Length; i++)
        {
            float saved = model.Parameters[i];
            model.Parameters[i] = saved + h;
            double plus = model.Forward(ids, targets, 2, 5);
            model.Parameters[i] = saved - h;
            double minus = model.Forward(ids, targets, 2, 5);
            model.Parameters[i] = saved;
            double fd = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(fd - analytic[i]) <= 1e-3 + 2e-2 * Math.Abs(analytic[i]),
                $"{Name(model, i)}: analytic {analytic[i]}, finite difference {fd}");
        }
    }

    /// <summary>With dropout, the same seed gives the same masks, so finite differences check the masked model's gradient.</summary>
    [Fact]
    public void Backward_WithDropout_MatchesFiniteDifferences()
    {
        var model = new Gpt(Tiny("gpt2") with { Dropout = 0.3f }, 2, 5);
        model.Initialize(new Rng(7));
        var rng = new Rng(8);
        for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] += (float)rng.NextGaussian(0, 0.3);
        int[] ids = [6, 1, 2, 3, 4, 6, 5, 0, 6, 6];
        int[] targets = [1, 2, 3, 4, 6, 5, 0, 6, 1, 2];
        model.ZeroGrad();
        float loss = model.Forward(ids, targets, 2, 5, new Rng(99));
        model.Backward();
        Assert.NotEqual(loss, model.Forward(ids, targets, 2, 5)); // dropout is really on
        var analytic = (float[])model.Gradients.Clone();
        const float h = 1e-3f;
        for (int i = 0; i < model.Parameters.Length; i += 3)
        {
            float saved = model.Parameters[i];
            model.Parameters[i] = saved + h;
            double plus = model.Forward(ids, targets, 2, 5, new Rng(99));
            model.Parameters[i] = saved - h;
            double minus = model.Forward(ids, targets, 2, 5, new Rng(99));
            model.Parameters[i] = saved;
            double fd = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(fd - analytic[i]) <= 1e-3 + 2e-2 * Math.Abs(analytic[i]),
                $"{Name(model, i)}: analytic {analytic[i]}, finite difference {fd}");
        }
    }

    [Theory]
    [InlineData(PositionKind.Sinusoidal)]
    [InlineData(PositionKind.Rope)]
    [InlineData(PositionKind.None)]
    public void Slices_PositionsNotLearned_HaveNoWpe(PositionKind positions)
    {
        var model = new Gpt(Tiny("gpt2") with { Positions = positions });
        Assert.DoesNotContain(model.Slices, s => s.Name == "wpe.weight");
        Assert.Equal(new Gpt(Tiny("gpt2")).Parameters.Length - 6 * 8, model.Parameters.Length);
        Assert.Equal(positions == PositionKind.Sinusoidal ? 6 * 8 : 0, model.PositionEmbeddings.Length);
    }

    [Fact]
    public void Forward_Sinusoidal_EqualsLearnedWithTheSinusoidsAsWpe()
    {
        // The fixed table is added exactly where a learned wpe is: copy the sinusoids into wpe and the logits agree bit for bit.
        var sinusoidal = new Gpt(Tiny("gpt2") with { Positions = PositionKind.Sinusoidal }, 1, 6);
        sinusoidal.Initialize(new Rng(5));
        var learned = new Gpt(Tiny("gpt2"), 1, 6);
        foreach (var s in sinusoidal.Slices)
            sinusoidal.Parameters.AsSpan(s.Offset, s.Length).CopyTo(learned.Parameters.AsSpan(learned.Slice(s.Name).Offset));
        sinusoidal.PositionEmbeddings.CopyTo(learned.PositionEmbeddings);
        Assert.Equal((float)Math.Cos(1), learned.PositionEmbeddings[8 + 1]); // row 1, channel 1: cos(1 / 10000^0)

        int[] ids = [1, 2, 3, 4, 5, 6];
        sinusoidal.Forward(ids, [], 1, 6);
        learned.Forward(ids, [], 1, 6);

        Assert.Equal(learned.Logits.ToArray(), sinusoidal.Logits.ToArray());
    }

    [Fact]
    public void Forward_RopeOrNone_ChangesWithOrderUnlikeABagOfTokens()
    {
        // Without positions one block's output at the last token depends on the set of earlier tokens only (a second
        // block would see the prefixes' causal differences); rotary positions see the order.
        float Last(PositionKind positions, int[] ids)
        {
            var model = new Gpt(Tiny("gpt2") with { Positions = positions, Layers = 1 }, 1, 4);
            model.Initialize(new Rng(5));
            new Rng(6).FillGaussian(model.Parameters, 0, 0.3);
            model.Forward(ids, [], 1, 4);
            return model.Logits[3 * 7];
        }
        Assert.Equal(Last(PositionKind.None, [1, 2, 3, 4]), Last(PositionKind.None, [2, 1, 3, 4]), 5);
        Assert.NotEqual(Last(PositionKind.Rope, [1, 2, 3, 4]), Last(PositionKind.Rope, [2, 1, 3, 4]), 3);
    }

    [Fact]
    public void Validate_RopeWithOddHeadSize_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new Gpt(Tiny("gpt2") with { Positions = PositionKind.Rope, Channels = 6, Heads = 2 }));
        Assert.Contains("head size n_embd / n_head = 3 must be even", e.Message);
    }

    [Fact]
    public void Constructor_ActivationsBeyondArrayMaxLength_ThrowsNamingBAndT()
    {
        // B·NH·T·T = 100000·2·1024·1024 floats; computed in int this overflowed into an OverflowException.
        var e = Assert.Throws<ArgumentException>(() => new Gpt(Tiny("gpt2") with { BlockSize = 1024 }, 100000, 1024));
        Assert.Equal("a batch of B=100000 sequences of T=1024 tokens needs an activation buffer of 209715200000 floats, "
            + $"more than one array can hold ({Array.MaxLength}); use a smaller batch or block size", e.Message);
    }

    [Fact]
    public void Forward_SequenceLongerThanBlock_ThrowsNamingBoth()
    {
        var model = new Gpt(Tiny("gpt2"), 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(new int[7], [], 1, 7));
        Assert.Contains("sequence of length 7 > block_size 6", e.Message);
        Assert.Throws<ArgumentException>(() => new Gpt(Tiny("gpt2"), 1, 7));
    }

    [Fact]
    public void Forward_TokenOutsideVocabulary_Throws()
    {
        var model = new Gpt(Tiny("gpt2"), 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([1, 7], [], 1, 2));
        Assert.Contains("token id 7", e.Message);
    }

    [Fact]
    public void Slices_Families_FollowHuggingFaceNamesAndOmitAbsentTensors()
    {
        var gpt2 = new Gpt(Tiny("gpt2"));
        var micro = new Gpt(Tiny("microgpt"));
        Assert.Contains(gpt2.Slices, s => s.Name == "h.1.attn.c_attn.bias");
        Assert.Contains(gpt2.Slices, s => s.Name == "ln_f.weight");
        Assert.DoesNotContain(gpt2.Slices, s => s.Name == "lm_head.weight");
        Assert.Equal([8L, 24L], gpt2.Slice("h.0.attn.c_attn.weight").FileShape);
        Assert.Equal([32L, 8L], gpt2.Slice("h.0.mlp.c_proj.weight").FileShape);
        Assert.DoesNotContain(micro.Slices, s => s.Name.Contains("ln_") || s.Name.EndsWith(".bias", StringComparison.Ordinal));
        Assert.Equal([7L, 8L], micro.Slice("lm_head.weight").FileShape);
        // microgpt: wte, wpe, 2 × (c_attn, c_proj, c_fc, c_proj), lm_head.
        Assert.Equal(7 * 8 + 6 * 8 + 2 * (24 * 8 + 8 * 8 + 32 * 8 + 8 * 32) + 7 * 8, micro.Parameters.Length);
    }

    [Fact]
    public void Initialize_Gpt2_ScalesResidualProjectionsAndSetsNorms()
    {
        var config = new GptConfig { VocabSize = 50, BlockSize = 8, Layers = 2, Heads = 4, Channels = 64 };
        var model = new Gpt(config);
        model.Initialize(new Rng(3));
        double Std(string name)
        {
            var s = model.Slice(name);
            var span = model.Parameters.AsSpan(s.Offset, s.Length).ToArray();
            return Math.Sqrt(span.Select(x => (double)x * x).Average());
        }
        Assert.InRange(Std("h.0.mlp.c_fc.weight"), 0.019, 0.021);
        Assert.InRange(Std("h.0.mlp.c_proj.weight"), 0.0095, 0.0105); // 0.02 / √(2·2)
        Assert.All(model.Parameters.AsSpan(model.Slice("ln_f.weight").Offset, 64).ToArray(), w => Assert.Equal(1f, w));
        Assert.All(model.Parameters.AsSpan(model.Slice("h.1.attn.c_attn.bias").Offset, 192).ToArray(), b => Assert.Equal(0f, b));
    }

    [Fact]
    public void Forward_PaddingAfterADocument_DoesNotChangeItsLogits()
    {
        var model = new Gpt(Tiny("microgpt"), 1);
        model.Initialize(new Rng(1));
        model.Forward([6, 1, 2], [], 1, 3);
        var alone = model.Logits.ToArray();
        model.Forward([6, 1, 2, 6, 6], [], 1, 5);
        Assert.Equal(alone, model.Logits[..alone.Length].ToArray());
    }

    static string Name(Gpt model, int index)
    {
        var s = model.Slices.Last(s => s.Offset <= index);
        return $"{s.Name}[{index - s.Offset}]";
    }

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float abs, float rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= abs + rel * Math.Abs(expected[i]),
                $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}
