using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Cli;

/// <summary>Option values and word lists the verbs must refuse (or keep exactly), through the CLI's entry point.</summary>
[Collection("Console")]
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
}
