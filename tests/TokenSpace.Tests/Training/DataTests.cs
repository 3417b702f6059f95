using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Tests.Training;

public class DataTests
{
    [Fact]
    public void FromText_EmptyCorpus_ThrowsNamingFile()
    {
        var tok = CharTokenizer.Train("abc");
        var e = Assert.Throws<FileFormatException>(() => TextData.FromText("\n  \n", tok, DataMode.Lines, "empty.txt"));
        Assert.Contains("empty.txt", e.Message);
        Assert.Contains("no documents", e.Message);
        Assert.Throws<FileFormatException>(() => TextData.FromText("a", tok, DataMode.Text, "tiny.txt"));
    }

    [Fact]
    public void FromText_UnknownCharacter_NamesLine()
    {
        var tok = CharTokenizer.Train("abc");
        var e = Assert.Throws<FileFormatException>(() => TextData.FromText("abc\ncab\nbaz\n", tok, DataMode.Lines, "val.txt"));
        Assert.Equal(3, e.Line);
        Assert.Contains("'z'", e.Message);
        e = Assert.Throws<FileFormatException>(() => TextData.FromText("ab\nc\nz", CharTokenizer.TrainStream("ab\nc"), DataMode.Text, "s.txt"));
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void Split_Lines_SeededTenPercentDisjoint()
    {
        string text = string.Join('\n', Enumerable.Range(0, 50).Select(i => new string('a', 1 + i % 7) + "b"));
        var data = TextData.FromText(text, CharTokenizer.Train(text), DataMode.Lines, "x");
        var (train, val) = data.Split(3);
        Assert.Equal(45, train.Documents.Count);
        Assert.Equal(5, val.Documents.Count);
        var again = data.Split(3);
        Assert.Equal(val.Documents, again.Validation.Documents);
    }

    [Fact]
    public void Batcher_Lines_PadsShortDocumentsWithIgnoredTargets()
    {
        var tok = CharTokenizer.Train("ab");
        var data = TextData.FromText("ab\nbbbbbbbbbbbbbbbbbbbbb\n", tok, DataMode.Lines, "x");
        var batcher = new Batcher(data, batchSize: 2, blockSize: 8, bosId: tok.BosId);
        var inputs = new int[16];
        var targets = new int[16];
        var (B, T) = batcher.Next(0, new Rng(1), inputs, targets);
        Assert.Equal((2, 8), (B, T));
        Assert.Equal([2, 0, 1, 2, 2, 2, 2, 2], inputs[..8]);
        Assert.Equal([0, 1, 2, -1, -1, -1, -1, -1], targets[..8]);
        // The long document is truncated to block + 1 tokens: BOS + 8 characters.
        Assert.Equal([2, 1, 1, 1, 1, 1, 1, 1], inputs[8..]);
        Assert.Equal([1, 1, 1, 1, 1, 1, 1, 1], targets[8..]);
    }

    [Fact]
    public void Batcher_Text_TargetsAreInputsShiftedByOne()
    {
        var tok = CharTokenizer.TrainStream("abcdefghij");
        var data = TextData.FromText("abcdefghij", tok, DataMode.Text, "x");
        var inputs = new int[8];
        var targets = new int[8];
        var (B, T) = new Batcher(data, 2, 4, tok.BosId).Next(0, new Rng(1), inputs, targets);
        Assert.Equal((2, 4), (B, T));
        for (int i = 0; i < 8; i++) Assert.Equal(inputs[i] + 1, targets[i]);
    }

    [Fact]
    public void Evaluator_Text_CountsEveryPredictedTokenOnce()
    {
        var tok = CharTokenizer.TrainStream("abcdefghij");
        var data = TextData.FromText("abcdefghijabcdefghij", tok, DataMode.Text, "x");
        var model = new Gpt(new GptConfig { VocabSize = tok.VocabSize, BlockSize = 6, Layers = 1, Heads = 1, Channels = 4 }, 2);
        model.Initialize(new Rng(2));
        var (loss, tokens) = Evaluator.Loss(model, data);
        Assert.Equal(19, tokens);
        Assert.InRange(loss, Math.Log(11) - 0.1, Math.Log(11) + 0.1);
    }

    [Fact]
    public void LearningRate_Schedules_MatchMicrogptAndNanoGpt()
    {
        Assert.Equal(0.01f, LearningRate.At(0, LrSchedule.Linear, 0.01f, 0, 0, 1000));
        Assert.Equal(0.0075f, LearningRate.At(250, LrSchedule.Linear, 0.01f, 0, 0, 1000), 1e-7f);
        Assert.Equal(1e-3f * 1 / 101, LearningRate.At(0, LrSchedule.Cosine, 1e-3f, 1e-4f, 100, 5000), 1e-9f);
        Assert.Equal(1e-3f, LearningRate.At(100, LrSchedule.Cosine, 1e-3f, 1e-4f, 100, 5000), 1e-9f);
        Assert.Equal(5.5e-4f, LearningRate.At(2550, LrSchedule.Cosine, 1e-3f, 1e-4f, 100, 5000), 1e-8f);
        Assert.Equal(1e-4f, LearningRate.At(6000, LrSchedule.Cosine, 1e-3f, 1e-4f, 100, 5000));
    }

    [Fact]
    public void AdamW_DecaysOnlyLinearWeights()
    {
        var model = new Gpt(new GptConfig { VocabSize = 5, BlockSize = 4, Layers = 1, Heads = 1, Channels = 4 });
        model.Parameters.AsSpan().Fill(1f);
        var adam = new AdamW(model.Slices, 0.9f, 0.99f, 1e-8f, weightDecay: 0.5f);
        adam.Update(model.Parameters, model.Gradients, lr: 0.1f); // zero gradients: only decay moves weights
        foreach (var s in model.Slices)
        {
            float expected = s.Kind == ParameterKind.Matrix ? 1f - 0.1f * 0.5f : 1f;
            Assert.Equal(expected, model.Parameters[s.Offset]);
        }
        // With a gradient, the first Adam step moves each weight by lr·sign(g) (m̂ = g, v̂ = g²).
        model.Parameters.AsSpan().Clear();
        model.Gradients.AsSpan().Fill(-3f);
        new AdamW(model.Slices, 0.85f, 0.99f, 1e-8f, 0).Update(model.Parameters, model.Gradients, 0.01f);
        Assert.All(model.Parameters, p => Assert.Equal(0.01f, p, 1e-6f));
    }

    [Fact]
    public void AdamW_ManySteps_EqualsThePlainFormulaBitForBit()
    {
        // Slices of 84, 60, 432, 144 … floats: whole vectors and tails. Five steps, so the moments and bias corrections matter.
        var model = new Gpt(new GptConfig { VocabSize = 7, BlockSize = 5, Layers = 1, Heads = 2, Channels = 12 });
        model.Initialize(new Rng(3));
        int n = model.Parameters.Length;
        float[] expected = [.. model.Parameters], m = new float[n], v = new float[n];
        var adam = new AdamW(model.Slices, 0.9f, 0.95f, 1e-8f, weightDecay: 0.1f);
        var rng = new Rng(4);
        for (int step = 1; step <= 5; step++)
        {
            rng.FillGaussian(model.Gradients, 0, 1);
            adam.Update(model.Parameters, model.Gradients, 0.01f);
            float bc1 = (float)(1 - Math.Pow(0.9f, step)), bc2 = (float)(1 - Math.Pow(0.95f, step));
            foreach (var s in model.Slices)
            {
                float keep = s.Kind == ParameterKind.Matrix ? 1f - 0.01f * 0.1f : 1f;
                for (int i = s.Offset; i < s.Offset + s.Length; i++)
                {
                    float g = model.Gradients[i];
                    m[i] = 0.9f * m[i] + (1f - 0.9f) * g;
                    v[i] = 0.95f * v[i] + (1f - 0.95f) * g * g;
                    expected[i] = expected[i] * keep - 0.01f * (m[i] / bc1) / (MathF.Sqrt(v[i] / bc2) + 1e-8f);
                }
            }
        }
        Assert.Equal(expected, model.Parameters);
        Assert.Equal(m, adam.M);
        Assert.Equal(v, adam.V);
    }

    [Fact]
    public void ClipGradNorm_LongBuffer_MatchesDoubleSum()
    {
        var g = new float[40_001];
        new Rng(5).FillGaussian(g, 0, 1);
        double exact = Math.Sqrt(g.Sum(x => (double)x * x));
        Assert.Equal(exact, AdamW.ClipGradNorm(g, 0), exact * 1e-7);
    }

    [Fact]
    public void ClipGradNorm_ScalesToMaxNorm()
    {
        float[] g = [3f, 4f];
        Assert.Equal(5f, AdamW.ClipGradNorm(g, 1f));
        Assert.Equal(0.6f, g[0], 1e-5f);
        Assert.Equal(0.8f, g[1], 1e-5f);
    }
}
