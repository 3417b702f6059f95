using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Tests.Training;

/// <summary>Training data, evaluation and checkpoints through <see cref="ITokenizer"/>: characters and byte-level BPE alike.</summary>
public class TokenizerDataTests
{
    // A tiny byte-level BPE (256 bytes + 5 merges + <|endoftext|>) from tools/reference/gpt2_golden.py.
    static Gpt2BpeTokenizer TinyBpe() => (Gpt2BpeTokenizer)CheckpointTokenizer.Load(TestData.Golden("hf_gpt2_tiny"));

    static string TempDir() => Path.Combine(Path.GetTempPath(), $"tokdata-{Guid.NewGuid():N}");

    const string Corpus = " the thin ant in the hat\n the ant in the tin\n";

    [Fact]
    public void CharTokenizer_AsITokenizer_TokensTileTextAndRoundTrip()
    {
        ITokenizer tok = CharTokenizer.TrainStream("hello, world");
        var tokens = tok.EncodeToTokens("low, hello");
        Assert.Equal(tok.EncodeToIds("low, hello"), tokens.Select(t => t.Id));
        Assert.Equal(Enumerable.Range(0, 10), tokens.Select(t => t.Start));
        Assert.All(tokens, t => Assert.Equal(1, t.Length));
        Assert.Equal("low, hello", string.Concat(tokens.Select(t => t.Value)));
        Assert.Equal("low, hello", tok.Decode(tok.EncodeToIds("low, hello")));
        var streamed = new List<int>();
        tok.Encode(new StringReader("low, hello"), ids => streamed.AddRange(ids));
        Assert.Equal(tok.EncodeToIds("low, hello"), streamed);
        Assert.Throws<ArgumentException>(() => tok.EncodeToIds("xyz"));
    }

    [Fact]
    public void FromText_BpeLines_WrapsDocumentsInEndOfText()
    {
        var bpe = TinyBpe();
        var data = TextData.FromText(Corpus, bpe, DataMode.Lines, "corpus");
        Assert.Equal(2, data.Documents.Count);
        // Lines are trimmed, as for characters: "the thin ant in the hat" (no leading space).
        Assert.Equal([bpe.EndOfTextId, .. bpe.EncodeToIds("the thin ant in the hat"), bpe.EndOfTextId], data.Documents[0]);
    }

    [Fact]
    public void LoadCached_Bpe_SameIdsAsEncodingAndReusesTheFile()
    {
        var bpe = TinyBpe();
        string dir = TempDir(), corpus = Path.Combine(dir, "corpus.txt");
        Directory.CreateDirectory(dir);
        File.WriteAllText(corpus, Corpus);
        try
        {
            var data = TextData.LoadCached(corpus, bpe, cacheRoot: dir);
            Assert.Equal(DataMode.Text, data.Mode);
            Assert.Equal(bpe.EncodeToIds(Corpus), data.Stream.ToArray());
            string file = Assert.Single(Directory.GetFiles(Path.Combine(dir, "tokens")));
            Assert.Equal(2 * data.Stream.Length, new FileInfo(file).Length); // uint16 ids
            var written = File.GetLastWriteTimeUtc(file);
            Assert.Equal(data.Stream.ToArray(), TextData.LoadCached(corpus, bpe, cacheRoot: dir).Stream.ToArray());
            Assert.Equal(written, File.GetLastWriteTimeUtc(file)); // tokenised once

            File.WriteAllText(corpus, " ");
            var e = Assert.Throws<FileFormatException>(() => TextData.LoadCached(corpus, bpe, cacheRoot: dir));
            Assert.Contains("corpus.txt", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Train_BpeTinyConfig_LossFallsAndCheckpointReloads()
    {
        var bpe = TinyBpe();
        var text = string.Concat(Enumerable.Repeat(Corpus, 8));
        var (train, val) = TextData.FromText(text, bpe, DataMode.Text, "corpus").Split(1);
        var options = new TrainOptions { Steps = 40, BatchSize = 4, LearningRate = 1e-2f, Mode = DataMode.Text, Seed = 1 };
        var config = new GptConfig { VocabSize = bpe.VocabSize, BlockSize = 8, Layers = 1, Heads = 2, Channels = 16 };
        var trainer = Trainer.Create(new Gpt(config, 4), bpe, options, train, val);
        float first = trainer.TrainStep().Loss;
        float last = first;
        while (trainer.Step < options.Steps) last = trainer.TrainStep().Loss;
        Assert.InRange(first, Math.Log(bpe.VocabSize) - 0.3, Math.Log(bpe.VocabSize) + 0.3);
        Assert.True(last < first - 2, $"loss {first} → {last}");

        string dir = TempDir();
        try
        {
            trainer.Save(dir);
            Assert.Contains("\"type\":\"gpt2\"", File.ReadAllText(Path.Combine(dir, Checkpoint.TokenizerFile)));
            var (model, tokenizer) = Checkpoint.Load(dir, maxBatch: 4);
            Assert.Equal(bpe.EncodeToIds(text), tokenizer.EncodeToIds(text));
            Assert.Equal(trainer.ValidationLoss(all: true), Evaluator.Loss(model, val).Loss, 6);

            // Snapshots carry the tokenizer whose ids index wte's rows: the BPE files come along.
            trainer.SaveSnapshot(dir);
            var snapshotTokenizer = Assert.IsType<Gpt2BpeTokenizer>(CheckpointTokenizer.Load(Path.Combine(dir, "snapshots")));
            Assert.Equal(bpe.VocabSize, snapshotTokenizer.VocabSize);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Evaluator_Text_ConsecutiveWindowsFromZeroWithLastPartial()
    {
        var bpe = TinyBpe();
        var ids = bpe.EncodeToIds(Corpus); // 16 ids
        var data = TextData.FromIds(ids);
        var config = new GptConfig { VocabSize = bpe.VocabSize, BlockSize = 5, Layers = 1, Heads = 1, Channels = 8 };
        var model = new Gpt(config, 2);
        model.Initialize(new Rng(4));
        var (loss, tokens) = Evaluator.Loss(model, data);

        // By hand, one window at a time: inputs [0,5) [5,10) [10,15) and the partial [15,15+r), targets shifted by one.
        var single = new Gpt(config, 1);
        model.Parameters.CopyTo(single.Parameters, 0);
        double sum = 0;
        long count = 0;
        for (int start = 0; start < ids.Length - 1; start += 5)
        {
            int t = Math.Min(5, ids.Length - 1 - start);
            sum += (double)single.Forward(ids.AsSpan(start, t), ids.AsSpan(start + 1, t), 1, t) * t;
            count += t;
        }
        Assert.Equal(ids.Length - 1, tokens);
        Assert.Equal(count, tokens);
        Assert.Equal(sum / count, loss, 5);
    }

    [Fact]
    public void CheckpointTokenizer_Char_RoundTripsAndBadFilesAreNamed()
    {
        string dir = TempDir();
        Directory.CreateDirectory(dir);
        try
        {
            Assert.Throws<FileNotFoundException>(() => CheckpointTokenizer.Load(dir));
            CharTokenizer.TrainStream("abc").SaveInto(dir);
            var back = Assert.IsType<CharTokenizer>(CheckpointTokenizer.Load(dir));
            Assert.Equal("abc", string.Concat(back.Vocab));

            string json = Path.Combine(dir, Checkpoint.TokenizerFile);
            File.WriteAllText(json, "{\"type\": \"wordpiece\"}");
            var e = Assert.Throws<FileFormatException>(() => CheckpointTokenizer.Load(dir));
            Assert.Contains("wordpiece", e.Message);
            File.WriteAllText(json, "{\"type\": ");
            e = Assert.Throws<FileFormatException>(() => CheckpointTokenizer.Load(dir));
            Assert.Contains(Checkpoint.TokenizerFile, e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void CheckpointTokenizer_HuggingFaceTokenizerJson_ReadsVocabAndMerges()
    {
        string dir = TempDir();
        Directory.CreateDirectory(dir);
        try
        {
            foreach (string f in new[] { Gpt2BpeTokenizer.VocabFile, Gpt2BpeTokenizer.MergesFile })
                File.Copy(Path.Combine(TestData.Golden("hf_gpt2_tiny"), f), Path.Combine(dir, f));
            // Hugging Face's own tokenizer.json has no "type" at its root.
            File.WriteAllText(Path.Combine(dir, Checkpoint.TokenizerFile), "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}");
            var bpe = Assert.IsType<Gpt2BpeTokenizer>(CheckpointTokenizer.Load(dir));
            Assert.Equal(262, bpe.VocabSize);
            Assert.Equal(261, bpe.DocumentSeparator);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

public sealed class TokenCacheTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokcache").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    static Gpt2BpeTokenizer TinyBpe() => (Gpt2BpeTokenizer)CheckpointTokenizer.Load(TestData.Golden("hf_gpt2_tiny"));

    string Corpus()
    {
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, " the thin ant in the hat\n");
        return corpus;
    }

    [Fact]
    public void LoadCached_IdBeyondTheVocabulary_ErrorNamesTheCacheFileAndOffset()
    {
        var bpe = TinyBpe();
        string corpus = Corpus();
        TextData.LoadCached(corpus, bpe, cacheRoot: dir);
        string cached = Assert.Single(Directory.GetFiles(Path.Combine(dir, "tokens")));
        var bytes = File.ReadAllBytes(cached);
        bytes[6] = bytes[7] = 0xFF; // token 3 becomes id 65535
        File.WriteAllBytes(cached, bytes);
        var e = Assert.Throws<FileFormatException>(() => TextData.LoadCached(corpus, bpe, cacheRoot: dir));
        Assert.Equal(cached, e.FilePath);
        Assert.Equal(6, e.ByteOffset);
        Assert.StartsWith($"token 3 is id 65535, outside the vocabulary of {bpe.VocabSize}", e.Cause);
    }

    [Fact]
    public void LoadCached_EmptyCacheFileOfATextCorpus_ErrorNamesTheCacheFile()
    {
        var bpe = TinyBpe();
        string corpus = Corpus();
        TextData.LoadCached(corpus, bpe, cacheRoot: dir);
        string cached = Assert.Single(Directory.GetFiles(Path.Combine(dir, "tokens")));
        File.WriteAllBytes(cached, []);
        var e = Assert.Throws<FileFormatException>(() => TextData.LoadCached(corpus, bpe, cacheRoot: dir));
        Assert.Equal(cached, e.FilePath);
        Assert.Contains("is empty, though the corpus is not", e.Cause);
    }

    [Fact]
    public void LoadCached_InvalidUtf8_ErrorUnlessReplaced()
    {
        string corpus = Path.Combine(dir, "latin1.txt");
        File.WriteAllBytes(corpus, [.. " the caf"u8, 0xE9, .. " hat\n the ant\n"u8]);
        var e = Assert.Throws<FileFormatException>(() => TextData.LoadCached(corpus, TinyBpe(), cacheRoot: dir));
        Assert.Equal(8, e.ByteOffset);
        Assert.False(Directory.Exists(Path.Combine(dir, "tokens")));
        Assert.True(TextData.LoadCached(corpus, TinyBpe(), cacheRoot: dir, replaceInvalidUtf8: true).Stream.Length > 2);
    }
}
