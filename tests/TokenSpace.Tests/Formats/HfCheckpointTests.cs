using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Tests.Formats;

/// <summary>
/// A Hugging Face GPT-2 folder (tools/reference/gpt2_golden.py: "transformer." names, Conv1D weights, the
/// attn.bias / masked_bias buffers, HF config keys, vocab.json + merges.txt) loads into Gpt with PyTorch's logits,
/// evaluates, fine-tunes, and names the tensor and both shapes when the weights do not fit.
/// </summary>
public class HfCheckpointTests
{
    static string Folder => TestData.Golden("hf_gpt2_tiny");

    static string TempDir() => Path.Combine(Path.GetTempPath(), $"hf-{Guid.NewGuid():N}");

    /// <summary>A copy of the golden folder whose model.safetensors holds <paramref name="edit"/> applied to the stored tensors.</summary>
    static string CopyWith(Func<List<(string Name, long[] Shape, ReadOnlyMemory<float> Data)>, List<(string Name, long[] Shape, ReadOnlyMemory<float> Data)>> edit)
    {
        string dir = TempDir();
        Directory.CreateDirectory(dir);
        foreach (string f in Directory.GetFiles(Folder)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var file = SafetensorsFile.Open(Path.Combine(Folder, Checkpoint.ModelFile));
        var tensors = file.Entries.Values.Select(e => (e.Name, e.Shape, (ReadOnlyMemory<float>)file.ReadFloat32(e.Name))).ToList();
        SafetensorsFile.Write(Path.Combine(dir, Checkpoint.ModelFile), edit(tensors));
        return dir;
    }

    [Fact]
    public void Load_HuggingFaceFolder_LogitsMatchPyTorch()
    {
        using var golden = JsonDocument.Parse(File.ReadAllText(TestData.Golden("hf_gpt2_tiny.json")));
        int[] ids = [.. golden.RootElement.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32())];
        var expected = golden.RootElement.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

        var (model, tokenizer) = Checkpoint.Load(Folder);
        Assert.IsType<Gpt2BpeTokenizer>(tokenizer);
        Assert.Equal(262, tokenizer.VocabSize);
        Assert.Equal(new GptConfig { VocabSize = 262, BlockSize = 16, Channels = 16, Layers = 2, Heads = 2 }, model.Config);
        model.Forward(ids, [], 1, ids.Length);
        int V = model.Config.VocabSize;
        double maxDiff = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            for (int v = 0; v < V; v++) maxDiff = Math.Max(maxDiff, Math.Abs(model.Logits[t * V + v] - expected[t][v]));
        }
        // float32 forward against a float64 reference on logits of magnitude ≤ 3 (observed 1.1e-6).
        Assert.True(maxDiff < 1e-5, $"max |logit − PyTorch| = {maxDiff}");
    }

    [Fact]
    public void Load_HuggingFaceFolder_TokenizerIsTheFoldersBpe()
    {
        var (_, tokenizer) = Checkpoint.Load(Folder);
        // Merges: h e, Ġ t, Ġt he, i n, Ġ a → Ġthe 258, Ġt 257, h 71, in 259, Ġa 260, n 77, t 83.
        Assert.Equal([258, 257, 71, 259, 260, 77, 83], tokenizer.EncodeToIds(" the thin ant"));
        Assert.Equal(" the thin ant", tokenizer.Decode(tokenizer.EncodeToIds(" the thin ant")));
    }

    [Fact]
    public void Load_MisShapedTensor_NamesTensorAndBothShapes()
    {
        string dir = CopyWith(ts => [.. ts.Select(t => t.Name == "transformer.h.1.mlp.c_fc.weight" ? (t.Name, new long[] { 64, 16 }, t.Data) : t)]);
        try
        {
            var e = Assert.Throws<FileFormatException>(() => Checkpoint.Load(dir));
            Assert.Contains("h.1.mlp.c_fc.weight", e.Message);
            Assert.Contains("[64, 16]", e.Message);
            Assert.Contains("[16, 64]", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Load_MissingTensor_NamesTensorAndShape()
    {
        string dir = CopyWith(ts => [.. ts.Where(t => t.Name != "transformer.ln_f.bias")]);
        try
        {
            var e = Assert.Throws<FileFormatException>(() => Checkpoint.Load(dir));
            Assert.Contains("'ln_f.bias' [16] is missing", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Load_WithoutPrefixAndBuffers_SameWeights()
    {
        var (reference, _) = Checkpoint.Load(Folder);
        string dir = CopyWith(ts => [.. ts.Where(t => !t.Name.Contains(".attn.bias") && !t.Name.Contains("masked_bias"))
            .Select(t => (t.Name["transformer.".Length..], t.Shape, t.Data))]);
        try
        {
            Assert.Equal(reference.Parameters, Checkpoint.Load(dir).Model.Parameters);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Load_TiedLmHeadStored_IsIgnored()
    {
        var (reference, _) = Checkpoint.Load(Folder);
        string dir = CopyWith(ts => [.. ts, ("lm_head.weight", [262, 16], new float[262 * 16])]);
        try
        {
            Assert.Equal(reference.Parameters, Checkpoint.Load(dir).Model.Parameters);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void FineTune_FromHuggingFaceFolder_LowersLossAndSavesLoadableCheckpoint()
    {
        var (model, tokenizer) = Checkpoint.Load(Folder, maxBatch: 2, forTraining: true);
        string text = string.Concat(Enumerable.Repeat(" the thin ant in the hat", 12));
        var data = TextData.FromText(text, tokenizer, DataMode.Text, "corpus");
        var options = new TrainOptions { Steps = 30, BatchSize = 2, LearningRate = 3e-3f, Mode = DataMode.Text, Seed = 3 };
        var before = model.Parameters.ToArray();
        var trainer = Trainer.Create(model, tokenizer, options, data, data, initialize: false);
        Assert.Equal(before, trainer.Model.Parameters); // fine-tuning starts from the loaded weights
        double start = trainer.ValidationLoss(all: true);
        while (trainer.Step < options.Steps) trainer.TrainStep();
        double end = trainer.ValidationLoss(all: true);
        Assert.True(end < start - 1, $"loss {start} → {end}");

        string dir = TempDir();
        try
        {
            trainer.Save(dir);
            Assert.True(File.Exists(Path.Combine(dir, Gpt2BpeTokenizer.VocabFile)));
            var (back, backTokenizer) = Checkpoint.Load(dir);
            Assert.Equal(trainer.Model.Parameters, back.Parameters);
            Assert.Equal(tokenizer.EncodeToIds(text), backTokenizer.EncodeToIds(text));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
