using System.Text.Json.Nodes;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Tests.Formats;

public class CheckpointTests
{
    static (Gpt Model, CharTokenizer Tokenizer) Sample(bool microgpt)
    {
        var tok = CharTokenizer.Train("abcdef");
        var config = microgpt
            ? GptConfig.MicroGpt(tok.VocabSize) with { BlockSize = 8 }
            : new GptConfig { VocabSize = tok.VocabSize, BlockSize = 8, Layers = 2, Heads = 2, Channels = 8 };
        var model = new Gpt(config, 1);
        model.Initialize(new Rng(11));
        return (model, tok);
    }

    static string TempDir() => Path.Combine(Path.GetTempPath(), $"ckpt-{Guid.NewGuid():N}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SaveLoad_RoundTrip_SameParametersAndLogits(bool microgpt)
    {
        var (model, tok) = Sample(microgpt);
        string dir = TempDir();
        try
        {
            Checkpoint.Save(dir, model, tok);
            var (back, backTok) = Checkpoint.Load(dir);
            Assert.Equal(model.Config, back.Config);
            Assert.Equal(model.Parameters, back.Parameters);
            Assert.Equal(tok.Vocab, ((CharTokenizer)backTok).Vocab);
            model.Forward([6, 0, 1], [], 1, 3);
            back.Forward([6, 0, 1], [], 1, 3);
            Assert.Equal(model.Logits.ToArray(), back.Logits.ToArray());

            var file = SafetensorsFile.Open(Path.Combine(dir, Checkpoint.ModelFile));
            Assert.Equal(microgpt, file.Entries.ContainsKey("lm_head.weight"));
            Assert.Equal(!microgpt, file.Entries.ContainsKey("h.0.ln_1.bias"));
            // Conv1D layout: c_attn is (C, 3C), and its column j < C is the q weight of output channel j.
            var s = model.Slice("h.0.attn.c_attn.weight");
            var stored = file.ReadFloat32(s.Name);
            int C = model.Config.Channels;
            Assert.Equal([(long)C, 3L * C], file.Entries[s.Name].Shape);
            Assert.Equal(model.Parameters[s.Offset + 5 * C + 2], stored[2 * 3 * C + 5]);

            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, Checkpoint.ConfigFile)))!;
            Assert.Equal(microgpt ? "rmsnorm" : "layernorm", config["norm"]!.GetValue<string>());
            Assert.Equal(!microgpt, config["tie_word_embeddings"]!.GetValue<bool>());
            Assert.Equal(8, config["n_positions"]!.GetValue<int>());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData(PositionKind.Sinusoidal)]
    [InlineData(PositionKind.Rope)]
    [InlineData(PositionKind.None)]
    public void SaveLoad_PositionsNotLearned_RoundTripWithoutWpe(PositionKind positions)
    {
        var (learned, tok) = Sample(microgpt: false);
        var model = new Gpt(learned.Config with { Positions = positions }, 1);
        model.Initialize(new Rng(12));
        string dir = TempDir();
        try
        {
            Checkpoint.Save(dir, model, tok);
            var (back, _) = Checkpoint.Load(dir);
            Assert.Equal(positions, back.Config.Positions);
            Assert.Equal(model.Parameters, back.Parameters);
            model.Forward([6, 0, 1], [], 1, 3);
            back.Forward([6, 0, 1], [], 1, 3);
            Assert.Equal(model.Logits.ToArray(), back.Logits.ToArray());
            Assert.DoesNotContain("wpe.weight", SafetensorsFile.Open(Path.Combine(dir, Checkpoint.ModelFile)).Entries.Keys);
            using (var wte = VectorsFile.Load(dir)) Assert.Equal(model.TokenEmbeddings.ToArray(), wte.Vectors.ToArray());

            // A learned model's weights beside a config that says otherwise: the extra wpe is named.
            Checkpoint.WriteModel(Path.Combine(dir, Checkpoint.ModelFile), learned);
            var e = Assert.Throws<FileFormatException>(() => Checkpoint.Load(dir));
            Assert.Contains("tensor 'wpe.weight' is not part of the architecture config.json describes", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Save_OverExisting_KeepsOtherEntriesAndLeavesNoTemporaries()
    {
        var (model, tok) = Sample(true);
        string dir = TempDir();
        try
        {
            Checkpoint.Save(dir, model, tok);
            Directory.CreateDirectory(Path.Combine(dir, "snapshots"));
            model.Parameters[0] = 42f;
            Checkpoint.Save(dir + Path.DirectorySeparatorChar, model, tok);
            Assert.True(Directory.Exists(Path.Combine(dir, "snapshots")));
            Assert.Equal(42f, Checkpoint.Load(dir).Model.Parameters[0]);
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(dir)!, $".{Path.GetFileName(dir)}.*"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Load_TruncatedWeights_ThrowsFileFormatException()
    {
        var (model, tok) = Sample(false);
        string dir = TempDir();
        try
        {
            Checkpoint.Save(dir, model, tok);
            string path = Path.Combine(dir, Checkpoint.ModelFile);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
            var e = Assert.Throws<FileFormatException>(() => Checkpoint.Load(dir));
            Assert.Equal(path, e.FilePath);
            Assert.Contains("truncated", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("\"n_layer\": 2", "\"n_layer\": 1000000")]
    [InlineData("\"n_embd\": 8", "\"n_embd\": 1000000000")]
    [InlineData("\"n_positions\": 8", "\"n_positions\": 1000000000")]
    [InlineData("\"n_layer\": 2", "\"n_layer\": 100")]
    public void Load_ConfigSizesThatLie_RefusedBeforeAllocating(string from, string to)
    {
        var (model, tok) = Sample(false);
        string dir = TempDir();
        try
        {
            Checkpoint.Save(dir, model, tok);
            string configPath = Path.Combine(dir, Checkpoint.ConfigFile);
            File.WriteAllText(configPath, File.ReadAllText(configPath).Replace(from, to));
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<FileFormatException>(() => Checkpoint.Load(dir));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated before refusing");
            Assert.Equal(configPath, e.FilePath);
            Assert.Contains("parameters", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Load_ConfigDisagreesWithWeights_NamesTensorAndShapes()
    {
        var (model, tok) = Sample(false);
        string dir = TempDir();
        try
        {
            Checkpoint.Save(dir, model, tok);
            string configPath = Path.Combine(dir, Checkpoint.ConfigFile);
            File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"n_embd\": 8", "\"n_embd\": 4"));
            var e = Assert.Throws<FileFormatException>(() => Checkpoint.Load(dir));
            Assert.Contains("wte.weight", e.Message);
            Assert.Contains("[7, 8]", e.Message);

            File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"n_embd\": 4", "\"n_embd\": 8").Replace("\"n_layer\": 2", "\"n_layer\": 1"));
            e = Assert.Throws<FileFormatException>(() => Checkpoint.Load(dir));
            Assert.Contains("'h.1.", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ReadModel_HuggingFacePrefixAndMaskBuffers_Loads()
    {
        var (model, _) = Sample(false);
        string dir = TempDir();
        try
        {
            Directory.CreateDirectory(dir);
            string ours = Path.Combine(dir, "ours.safetensors"), hf = Path.Combine(dir, "hf.safetensors");
            Checkpoint.WriteModel(ours, model);
            var file = SafetensorsFile.Open(ours);
            var tensors = file.Entries.Values.Select(e => ("transformer." + e.Name, e.Shape, (ReadOnlyMemory<float>)file.ReadFloat32(e.Name))).ToList();
            tensors.Add(("transformer.h.0.attn.bias", [1, 1, 8, 8], new float[64]));
            SafetensorsFile.Write(hf, tensors);
            var back = new Gpt(model.Config);
            Checkpoint.ReadModel(hf, back);
            Assert.Equal(model.Parameters, back.Parameters);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Load_MissingDirectory_SaysWhatIsMissing()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(TempDir()));
        Assert.Contains("config.json does not exist", e.Message);
    }
}

public sealed class CheckpointStateTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"ckpt-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }

    Trainer SavedRun()
    {
        const string names = "anna\nbob\ncarl\ndora\nemil\n";
        var tok = CharTokenizer.Train(names);
        var options = new TrainOptions { Steps = 3, Seed = 1 };
        var (train, val) = TextData.FromText(names, tok, DataMode.Lines, "names").Split(options.Seed);
        var trainer = Trainer.Create(new Gpt(GptConfig.MicroGpt(tok.VocabSize)), tok, options, train, val);
        trainer.TrainStep();
        trainer.Save(dir);
        return trainer;
    }

    string StateFile => Path.Combine(dir, Checkpoint.StateFile);

    [Theory]
    [InlineData("\"learning_rate\": 0.01", "\"learning_rate\": -1", "\"options\": \"learning_rate\" must be positive and finite, got -1")]
    [InlineData("\"batch_size\": 1", "\"batch_size\": 0", "\"options\": \"batch_size\" must be at least 1, got 0")]
    [InlineData("\"schedule\": \"linear\"", "\"schedule\": 7", "\"options\": \"schedule\" must be cosine, linear or constant, got 7")]
    [InlineData("\"step\": 1,", "\"step\": -5,", "\"step\" must not be negative, got -5")]
    public void LoadState_EditedTrainerJson_ErrorNamesFileAndKey(string from, string to, string cause)
    {
        var trainer = SavedRun();
        string text = File.ReadAllText(StateFile);
        Assert.Contains(from, text);
        File.WriteAllText(StateFile, text.Replace(from, to));
        var e = Assert.Throws<FileFormatException>(() => TrainingState.Load(dir, trainer.Model));
        Assert.Equal(StateFile, e.FilePath);
        Assert.StartsWith(cause, e.Cause);
    }

    [Fact]
    public void LoadState_NaNInOptimizerMoments_ErrorNamesTensorAndIndex()
    {
        var trainer = SavedRun();
        var m = (float[])trainer.Optimizer.M.Clone();
        m[5] = float.NaN;
        SafetensorsFile.Write(Path.Combine(dir, Checkpoint.OptimizerFile), [("m", [m.Length], m), ("v", [m.Length], trainer.Optimizer.V)]);
        var e = Assert.Throws<FileFormatException>(() => TrainingState.Load(dir, trainer.Model));
        Assert.StartsWith("tensor 'm' holds NaN at index 5", e.Cause);
    }

    [Fact]
    public void Load_NaNWeight_ErrorNamesTensorAndIndex()
    {
        var trainer = SavedRun();
        var file = SafetensorsFile.Open(Path.Combine(dir, Checkpoint.ModelFile));
        var tensors = file.Entries.Values.Select(e => (e.Name, e.Shape, (ReadOnlyMemory<float>)file.ReadFloat32(e.Name))).ToList();
        int wte = tensors.FindIndex(t => t.Name == "wte.weight");
        var bad = tensors[wte].Item3.ToArray();
        bad[3] = float.NegativeInfinity;
        tensors[wte] = ("wte.weight", tensors[wte].Shape, bad);
        SafetensorsFile.Write(Path.Combine(dir, Checkpoint.ModelFile), tensors);
        var e = Assert.Throws<FileFormatException>(() => Checkpoint.Load(dir));
        Assert.StartsWith("tensor 'wte.weight' holds -Infinity at index 3", e.Cause);
    }
}
