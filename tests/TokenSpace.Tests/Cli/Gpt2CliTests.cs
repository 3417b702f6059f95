using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.Tokenization;

namespace TokenSpace.Tests.Cli;

/// <summary>
/// train / sample / evaluate loss / tokenize with a BPE tokenizer and a Hugging Face folder, through the real
/// entry point. The tiny BPE folder from tools/reference/gpt2_golden.py stands in for GPT-2 (no cache needed).
/// </summary>
[Collection(ProcessWideState.Name)]
public class Gpt2CliTests
{
    static string Folder => TestData.Golden("hf_gpt2_tiny");

    const string Corpus = " the thin ant in the hat\n the ant in the tin\n";

    static (int Exit, JsonElement Json) RunJson(params string[] args)
    {
        var (exit, text, _) = VectorsCliTests.Run([.. args, "--json", "--threads", "1"]);
        return (exit, exit == 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    [Fact]
    public void TrainWithBpeDirectory_ThenSampleAndEvaluate_Work()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"gpt2cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string corpus = Path.Combine(dir, "corpus.txt"), outDir = Path.Combine(dir, "ckpt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(Corpus, 6)));
        try
        {
            var (exit, train) = RunJson("train", "--data", corpus, "--tokenizer", Folder, "--preset", "shakespeare-char-small",
                "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "8", "--batch-size", "2", "--steps", "5", "--out", outDir);
            Assert.Equal(0, exit);
            Assert.Equal(5, train.GetProperty("step").GetInt32());
            Assert.True(File.Exists(Path.Combine(outDir, Gpt2BpeTokenizer.MergesFile)));

            var (_, ids) = RunJson("tokenize", "--tokenizer", outDir, "--file", corpus);
            int count = ids.GetProperty("ids").GetArrayLength();
            var (evalExit, loss) = RunJson("evaluate", "loss", "--checkpoint", outDir, "--data", corpus);
            Assert.Equal(0, evalExit);
            Assert.Equal(count - 1, loss.GetProperty("tokens").GetInt64()); // text mode: every token after the first predicted once

            var (sampleExit, sample) = RunJson("sample", "--checkpoint", outDir, "--count", "2", "--max-tokens", "6", "--prompt", " the");
            Assert.Equal(0, sampleExit);
            Assert.All(sample.GetProperty("samples").EnumerateArray(), s => Assert.StartsWith(" the", s.GetString()));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void InitFromHuggingFaceFolder_FineTunesAndEvaluates()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"gpt2cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string corpus = Path.Combine(dir, "corpus.txt"), outDir = Path.Combine(dir, "ckpt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(Corpus, 6)));
        try
        {
            var (_, before) = RunJson("evaluate", "loss", "--checkpoint", Folder, "--data", corpus);
            var (exit, _) = RunJson("train", "--init-from", Folder, "--data", corpus, "--val-data", corpus, "--preset", "shakespeare-char-small",
                "--batch-size", "2", "--steps", "20", "--lr", "3e-3", "--warmup", "0", "--out", outDir);
            Assert.Equal(0, exit);
            var (_, after) = RunJson("evaluate", "loss", "--checkpoint", outDir, "--data", corpus);
            Assert.Equal(before.GetProperty("tokens").GetInt64(), after.GetProperty("tokens").GetInt64());
            Assert.True(after.GetProperty("loss").GetDouble() < before.GetProperty("loss").GetDouble() - 1,
                $"loss {before.GetProperty("loss")} → {after.GetProperty("loss")}");

            var (badExit, _) = RunJson("train", "--init-from", Folder, "--data", corpus, "--n-layer", "3", "--out", outDir);
            Assert.Equal(1, badExit);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TrainTokenizerGpt2_SavesSelfContainedCheckpoint()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"gpt2cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string corpus = Path.Combine(dir, "corpus.txt"), outDir = Path.Combine(dir, "ckpt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("First Citizen: Before we proceed any further, hear me speak.\n", 4)));
        try
        {
            var (exit, _) = RunJson("train", "--data", corpus, "--tokenizer", "gpt2", "--preset", "shakespeare-char-small",
                "--n-layer", "1", "--n-head", "2", "--n-embd", "8", "--block-size", "8", "--batch-size", "2", "--steps", "3", "--out", outDir);
            Assert.Equal(0, exit);
            Assert.Equal(50257, JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, Checkpoint.TokenizerFile))).RootElement.GetProperty("vocab_size").GetInt32());
            var (_, loss) = RunJson("evaluate", "loss", "--checkpoint", outDir, "--data", corpus);
            var (_, ids) = RunJson("tokenize", "--tokenizer", "gpt2", "--file", corpus);
            Assert.Equal(ids.GetProperty("ids").GetArrayLength() - 1, loss.GetProperty("tokens").GetInt64());
            Assert.InRange(loss.GetProperty("loss").GetDouble(), Math.Log(50257) - 1, Math.Log(50257) + 1); // 3 steps: still near uniform
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TokenizeChar_Text_IdsOfItsOwnCharacters()
    {
        var (exit, json) = RunJson("tokenize", "--tokenizer", "char", "--text", "abca");
        Assert.Equal(0, exit);
        Assert.Equal([0, 1, 2, 0], json.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void InitFromCroppedContext_Resume_ContinuesBitIdentically()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"gpt2cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string corpus = Path.Combine(dir, "corpus.txt"), straight = Path.Combine(dir, "straight"), resumed = Path.Combine(dir, "resumed");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(Corpus, 6)));
        string[] common = ["train", "--init-from", Folder, "--data", corpus, "--preset", "shakespeare-char-small", "--block-size", "8", "--batch-size", "2", "--lr", "3e-3", "--warmup", "0", "--schedule", "constant"];
        try
        {
            // A constant rate: with a decay, the 3-step run would decay over 3 steps, not 6.
            Assert.Equal(0, RunJson([.. common, "--steps", "6", "--out", straight]).Exit);
            Assert.Equal(0, RunJson([.. common, "--steps", "3", "--out", resumed]).Exit);
            Assert.Equal(0, RunJson("train", "--data", corpus, "--resume", "--steps", "6", "--out", resumed).Exit);
            var a = Checkpoint.Load(straight).Model.Parameters;
            var b = Checkpoint.Load(resumed).Model.Parameters;
            Assert.Equal(a, b);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
