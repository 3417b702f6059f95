using System.Text;
using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Tests.Formats;

public sealed class SafetensorsVectorsTests : IDisposable
{
    const string Names = "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\n";

    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-stvec").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A demo-sized run (microgpt, 16 channels) of a few steps, saved as a checkpoint by the Trainer.</summary>
    static Trainer TrainedCheckpoint(string path)
    {
        var options = new TrainOptions { Steps = 5, Seed = 3 };
        var tok = CharTokenizer.Train(Names);
        var (train, val) = TextData.FromText(Names, tok, DataMode.Lines, "names").Split(options.Seed);
        var trainer = Trainer.Create(new Gpt(GptConfig.MicroGpt(tok.VocabSize), options.BatchSize), tok, options, train, val);
        while (trainer.Step < options.Steps) trainer.TrainStep();
        trainer.Save(path);
        return trainer;
    }

    static float[] Row(TokenSpace.Vectors.KeyedVectors kv, string key) => kv.GetVector(key).ToArray();

    [Fact]
    public void Load_CheckpointDirectory_GivesWteRowsKeyedByTokens()
    {
        string ckpt = Path.Combine(dir, "demo");
        var trainer = TrainedCheckpoint(ckpt);
        var stored = SafetensorsFile.Open(Path.Combine(ckpt, Checkpoint.ModelFile)).ReadFloat32("wte.weight");

        using var kv = VectorsFile.Load(ckpt);

        var tok = (CharTokenizer)trainer.Tokenizer;
        Assert.Equal(Enumerable.Range(0, tok.VocabSize).Select(tok.TokenText), kv.Keys);
        Assert.Equal("<BOS>", kv.Keys[^1]);
        Assert.Equal(16, kv.Dimensions);
        Assert.Equal(stored, kv.Vectors.ToArray());
        Assert.Equal(trainer.Model.TokenEmbeddings.ToArray(), kv.Vectors.ToArray());
        int e = tok.Vocab.ToList().IndexOf('e');
        Assert.Equal(stored.AsSpan(e * 16, 16).ToArray(), Row(kv, "e"));
        Assert.Equal(VectorFormat.Safetensors, VectorsFile.Detect(ckpt));
    }

    [Fact]
    public void Load_CheckpointWpe_GivesPositionRowsKeyedPos()
    {
        string ckpt = Path.Combine(dir, "demo");
        var trainer = TrainedCheckpoint(ckpt);

        using var kv = VectorsFile.Load(ckpt, options: new VectorsLoadOptions { Tensor = "wpe" });

        int block = trainer.Model.Config.BlockSize;
        Assert.Equal(Enumerable.Range(0, block).Select(i => $"pos:{i}"), kv.Keys);
        Assert.Equal(trainer.Model.PositionEmbeddings.ToArray(), kv.Vectors.ToArray());
    }

    [Fact]
    public void Load_CheckpointWithLimit_GivesFirstRows()
    {
        string ckpt = Path.Combine(dir, "demo");
        var trainer = TrainedCheckpoint(ckpt);

        using var kv = VectorsFile.Load(ckpt, options: new VectorsLoadOptions { Tensor = "wte.weight", Limit = 3 });

        Assert.Equal(["a", "b", "c"], kv.Keys);
        Assert.Equal(trainer.Model.TokenEmbeddings[..48].ToArray(), kv.Vectors.ToArray());
    }

    [Fact]
    public void Load_UntiedLmHead_KeyedByTokens()
    {
        string ckpt = Path.Combine(dir, "demo");
        var trainer = TrainedCheckpoint(ckpt); // microgpt does not tie lm_head to wte
        var stored = SafetensorsFile.Open(Path.Combine(ckpt, Checkpoint.ModelFile)).ReadFloat32("lm_head.weight");

        using var kv = VectorsFile.Load(ckpt, options: new VectorsLoadOptions { Tensor = "lm_head" });

        Assert.Equal("<BOS>", kv.Keys[^1]);
        Assert.Equal(stored, kv.Vectors.ToArray());
        Assert.NotEqual(trainer.Model.TokenEmbeddings.ToArray(), kv.Vectors.ToArray());
    }

    [Fact]
    public void Load_OtherTensorOfCheckpoint_KeyedByRowNumber()
    {
        string ckpt = Path.Combine(dir, "demo");
        TrainedCheckpoint(ckpt);
        var file = SafetensorsFile.Open(Path.Combine(ckpt, Checkpoint.ModelFile));

        using var kv = VectorsFile.Load(ckpt, options: new VectorsLoadOptions { Tensor = "h.0.mlp.c_fc.weight" });

        Assert.Equal(file.Entries["h.0.mlp.c_fc.weight"].Shape, new long[] { kv.Count, kv.Dimensions });
        Assert.Equal(Enumerable.Range(0, kv.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), kv.Keys);
        Assert.Equal(file.ReadFloat32("h.0.mlp.c_fc.weight"), kv.Vectors.ToArray());
    }

    [Fact]
    public void Load_Snapshot_KeysFromTokenizerBeside()
    {
        string run = Path.Combine(dir, "run");
        var trainer = TrainedCheckpoint(run);
        trainer.SaveSnapshot(run);
        string snapshot = Path.Combine(run, "snapshots", "step-000005.safetensors");

        using var kv = VectorsFile.Load(snapshot);

        Assert.Equal(VectorFormat.Safetensors, VectorsFile.Detect(snapshot));
        Assert.Equal("a", kv.Keys[0]);
        Assert.Equal("<BOS>", kv.Keys[^1]);
        Assert.Equal(trainer.Model.TokenEmbeddings.ToArray(), kv.Vectors.ToArray());
    }

    [Fact]
    public void Load_NamedTensorOfPlainFile_KeysAreRowNumbersOrKeysFile()
    {
        string path = Path.Combine(dir, "m.safetensors");
        SafetensorsFile.Write(path, [("bias", [2L], new float[] { 9, 9 }), ("emb", [3L, 2L], new float[] { 1, 2, 3, 4, 5, 6 })]);

        using var byIndex = VectorsFile.Load(path, options: new VectorsLoadOptions { Tensor = "emb" });
        Assert.Equal(["0", "1", "2"], byIndex.Keys);
        Assert.Equal([3f, 4f], Row(byIndex, "1"));

        // The only 2-D tensor is the default.
        using var single = VectorsFile.Load(path);
        Assert.Equal(byIndex.Vectors.ToArray(), single.Vectors.ToArray());

        string keys = Path.Combine(dir, "keys.txt");
        File.WriteAllText(keys, "cat\ndog\nfish\n");
        using var keyed = VectorsFile.Load(path, options: new VectorsLoadOptions { Tensor = "emb", KeysPath = keys });
        Assert.Equal(["cat", "dog", "fish"], keyed.Keys);
        Assert.Equal([5f, 6f], Row(keyed, "fish"));
    }

    [Fact]
    public void Load_HuggingFaceDirectory_KeysAreDecodedBpeTokens()
    {
        // A miniature GPT-2 folder: the 256 byte symbols, one merge "Ġ k", <|endoftext|>, and a transformer.-prefixed wte.
        string hf = Path.Combine(dir, "hf");
        Directory.CreateDirectory(hf);
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocab[ByteLevel.ByteToChar[b].ToString()] = b;
        vocab["Ġk"] = 256;
        vocab[Gpt2BpeTokenizer.EndOfText] = 257;
        File.WriteAllText(Path.Combine(hf, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(hf, "merges.txt"), "#version: 0.2\nĠ k\n", new UTF8Encoding(false));
        var wte = Enumerable.Range(0, 258 * 2).Select(i => (float)i).ToArray();
        SafetensorsFile.Write(Path.Combine(hf, Checkpoint.ModelFile), [("transformer.wte.weight", [258L, 2L], wte)]);

        using var kv = VectorsFile.Load(hf);

        Assert.Equal(258, kv.Count);
        Assert.Equal([512f, 513f], Row(kv, " k"));
        Assert.Equal([514f, 515f], Row(kv, "<|endoftext|>"));
        Assert.Equal([2 * 'a', 2 * 'a' + 1f], Row(kv, "a"));
        // Byte 0xE2 alone is not UTF-8: it shows as its value.
        Assert.Equal(0xE2, kv.IndexOf("<0xE2>"));
    }

    [Fact]
    public void Load_Gpt2SizedWteWithoutTokenizer_UsesGpt2Vocabulary()
    {
        string path = Path.Combine(dir, Checkpoint.ModelFile);
        SafetensorsFile.Write(path, [("wte.weight", [50257L, 1L], Enumerable.Range(0, 50257).Select(i => (float)i).ToArray())]);

        using var kv = VectorsFile.Load(dir);

        var bpe = Gpt2BpeTokenizer.Create();
        int king = bpe.EncodeToIds(" king").Single();
        Assert.Equal(king, kv.IndexOf(" king"));
        Assert.Equal(50256, kv.IndexOf("<|endoftext|>"));
        Assert.Equal(50257, kv.Keys.Distinct().Count());
    }

    [Fact]
    public void Load_MissingTensor_ThrowsListingMatrices()
    {
        string path = Path.Combine(dir, "m.safetensors");
        SafetensorsFile.Write(path, [("a", [2L, 2L], new float[4]), ("b", [2L, 3L], new float[6])]);

        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Contains("no token embedding (wte, wte.weight, transformer.wte, transformer.wte.weight, …); choose a tensor with --tensor NAME (its 2-D tensors: a, b)", e.Message);
        var named = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, options: new VectorsLoadOptions { Tensor = "c" }));
        Assert.Contains("no tensor 'c'", named.Message);
    }

    [Fact]
    public void Load_OneDimensionalTensor_Throws()
    {
        string path = Path.Combine(dir, "m.safetensors");
        SafetensorsFile.Write(path, [("wte", [4L], new float[4])]);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Contains("shape [4]; vectors need a 2-D tensor", e.Message);
    }

    [Fact]
    public void Load_NaN_ThrowsWithByteOffset()
    {
        string path = Path.Combine(dir, "m.safetensors");
        SafetensorsFile.Write(path, [("wte", [2L, 2L], new[] { 1f, 2f, 3f, float.NaN })]);
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path));
        Assert.Contains("element [1, 1] (row '1') is not finite", e.Message);
        var file = SafetensorsFile.Open(path);
        Assert.Equal(file.DataStart + 12, e.ByteOffset);
    }

    [Fact]
    public void Load_TokenizerOfOtherSize_Throws()
    {
        string ckpt = Path.Combine(dir, "demo");
        TrainedCheckpoint(ckpt);
        CharTokenizer.Train("xyz").Save(Path.Combine(ckpt, Checkpoint.TokenizerFile));
        var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(ckpt));
        Assert.Contains("the tokenizer has 4 tokens but the tensor has", e.Message);
    }

    [Fact]
    public void Load_DirectoryWithoutModel_ThrowsFileNotFound()
    {
        var e = Assert.Throws<FileNotFoundException>(() => VectorsFile.Load(dir));
        Assert.Contains("without model.safetensors", e.Message);
    }
}
