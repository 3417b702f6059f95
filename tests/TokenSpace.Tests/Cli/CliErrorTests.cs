using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.Model;
using TokenSpace.Tests.Vectors;
using TokenSpace.Tokenization;
using TokenSpace.Training;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Cli;

/// <summary>Option values and word lists the verbs must refuse (or keep exactly), through the CLI's entry point.</summary>
[Collection(ProcessWideState.Name)]
public sealed class CliErrorTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-clierr").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Runs the CLI, expects exit code 1 and nothing on stdout, and returns the one stderr line.</summary>
    static string Error(params string[] args)
    {
        var (code, output, error) = VectorsCliTests.Run(args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        return error.TrimEnd('\n', '\r');
    }

    /// <summary>A native file whose keys include a GPT-2 style " king" (leading space) beside "king".</summary>
    string Gpt2Like()
    {
        string path = Path.Combine(dir, "gpt2like.tsvec");
        using var kv = new KeyedVectors([" king", "king", "queen", "royal"], [1, 0, 0.9f, 0.1f, 0, 1, 0.5f, 0.5f], 2);
        VectorsFile.Save(kv, path, VectorFormat.Native);
        return path;
    }

    [Fact]
    public void Heatmap_WordWithLeadingSpace_KeptExactly()
    {
        var (code, output, error) = VectorsCliTests.Run("heatmap", "--vectors", Gpt2Like(), "--words", " king,king,,queen", "--out", Path.Combine(dir, "h.svg"), "--json");
        Assert.True(code == 0, error);
        var keys = JsonDocument.Parse(output).RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!).ToArray();
        Assert.Equal([" king", "king", "queen"], keys);
    }

    [Fact]
    public void Map_WordWithLeadingSpace_Selectable()
    {
        string path = Path.Combine(dir, "nokey.tsvec");
        using (var kv = new KeyedVectors([" king", "queen", "royal"], [1, 0, 0, 1, 0.5f, 0.5f], 2)) VectorsFile.Save(kv, path, VectorFormat.Native);
        var (code, _, error) = VectorsCliTests.Run("map", "--vectors", path, "--words", " king,queen,royal", "--out", Path.Combine(dir, "m.svg"));
        Assert.True(code == 0, error);
    }

    [Fact]
    public void MapAndHeatmap_DuplicateWord_ErrorNamesIt()
    {
        string path = Gpt2Like();
        Assert.Equal("error: 'king' is listed twice; give each word once", Error("map", "--vectors", path, "--words", "king,queen,king", "--out", Path.Combine(dir, "m.svg")));
        Assert.Equal("error: 'king' is listed twice; give each word once", Error("heatmap", "--vectors", path, "--words", "king,king", "--out", Path.Combine(dir, "h.svg")));
    }

    [Fact]
    public void Heatmap_OneWord_Error()
    {
        Assert.Equal("error: --words needs at least 2 words to compare, got 1", Error("heatmap", "--vectors", Gpt2Like(), "--words", "king,", "--out", Path.Combine(dir, "h.svg")));
    }

    [Fact]
    public void Heatmap_PositionsOnWordVectors_Error()
    {
        string path = Gpt2Like();
        Assert.Equal($"error: --positions needs a checkpoint or a wpe tensor; {path} has word keys",
            Error("heatmap", "--vectors", path, "--positions", "--count", "3", "--out", Path.Combine(dir, "h.svg")));
        Assert.False(File.Exists(Path.Combine(dir, "h.svg")));
    }

    static readonly string Small = VectorsGolden.Path("small.txt");

    [Theory]
    [InlineData("neighbors", "0", "error: --top must be at least 1, got 0")]
    [InlineData("neighbors", "-2", "error: --top must be at least 1, got -2")]
    [InlineData("analogy", "0", "error: --top must be at least 1, got 0")]
    public void NeighborsAndAnalogy_TopBelowOne_Error(string verb, string top, string expected)
    {
        string[] words = verb == "analogy" ? ["germany", "berlin", "italy"] : ["paris"];
        Assert.Equal(expected, Error([verb, "--vectors", Small, .. words, "--top", top]));
    }

    [Fact]
    public void ParseError_OneLineAndPointerToHelp_ExitTwo()
    {
        var (code, output, error) = VectorsCliTests.Run("neighbors", "--vectors", Small, "paris", "--top", "abc");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal(
            ["error: Cannot parse argument 'abc' for option '--top' as expected type 'System.Int32'.", "hint: see `tokenspace neighbors --help`"],
            error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void ImpossibleBatch_OneLineNamingSizes_NoStackTrace()
    {
        string data = Path.Combine(dir, "names.txt");
        File.WriteAllText(data, "anna\nbob\n");
        var (code, _, error) = VectorsCliTests.Run("train", "--data", data, "--batch-size", "100000", "--block-size", "1024", "--out", Path.Combine(dir, "run"));
        Assert.Equal(1, code);
        string line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: a batch of B=100000 sequences of T=1024 tokens", line);
        Assert.DoesNotContain("(Parameter", line);
    }

    [Fact]
    public void TrainResume_WithRunSettings_RefusedNamingThem()
    {
        string data = Path.Combine(dir, "names.txt");
        File.WriteAllText(data, "anna\nbob\ncarl\ndora\n");
        string run = Path.Combine(dir, "run");
        Assert.Equal(0, VectorsCliTests.Run("train", "--data", data, "--steps", "2", "--out", run, "--json").Code);
        Assert.Equal(
            "error: --resume continues the saved run with its own settings, and these differ: --lr 0.1 (the run's: 0.01), --seed 3 (the run's: 42); "
            + "drop them (only --steps, --lr-decay-steps, --eval-every, --eval-tokens, --snapshot-every and --log-every may change)",
            Error("train", "--data", data, "--out", run, "--resume", "--steps", "4", "--lr", "0.1", "--seed", "3"));
    }

    [Fact]
    public void Inspect_NegativeSamples_Error() =>
        Assert.Equal("error: --samples must not be negative, got -1", Error("inspect", "--vectors", Small, "--samples", "-1"));

    [Fact]
    public void Load_LimitBelowOne_Error() =>
        Assert.Equal("error: --limit must be at least 1, got 0", Error("neighbors", "--vectors", Small, "paris", "--limit", "0"));

    [Fact]
    public void Neighbors_RestrictVocabZero_ErrorNamesIt() =>
        Assert.StartsWith("error: restrict-vocab must be at least 1, got 0 (leave it out to search every key)", Error("neighbors", "--vectors", Small, "paris", "--restrict-vocab", "0"));

    [Theory]
    [InlineData("--iterations", "0", "error: --iterations must be at least 1, got 0")]
    [InlineData("--perplexity", "0", "error: --perplexity must be above 0 and below the number of points (4), got 0")]
    [InlineData("--perplexity", "4", "error: --perplexity must be above 0 and below the number of points (4), got 4")]
    public void Map_InvalidTsneOption_ErrorNamesOption(string option, string value, string expected) =>
        Assert.Equal(expected, Error("map", "--vectors", Small, "--top", "4", "--method", "tsne", option, value, "--out", Path.Combine(dir, "m.svg")));

    [Theory]
    [InlineData("--max-tokens", "0", "error: --max-tokens must be at least 1, got 0")]
    [InlineData("--top-k", "-1", "error: --top-k must not be negative, got -1 (0 draws from every token)")]
    public void Sample_InvalidOption_Error(string option, string value, string expected)
    {
        var tok = CharTokenizer.Train("abc\n");
        var data = TextData.FromText("abc\ncab\n", tok, DataMode.Lines, "tiny");
        Trainer.Create(new Gpt(GptConfig.MicroGpt(tok.VocabSize)), tok, new TrainOptions { Steps = 1 }, data, data).Save(dir);
        Assert.Equal(expected, Error("sample", "--checkpoint", dir, option, value));
    }
}
