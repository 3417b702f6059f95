using System.Text.Json;
using System.Text.Json.Nodes;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Training;

namespace TokenSpace.Tests.Cli;

/// <summary><c>train --positions</c> end to end: what the checkpoint records, and every verb that reads it.</summary>
[Collection(ProcessWideState.Name)]
public sealed class PositionsCliTests : IDisposable
{
    const string Names = "anna\nbob\ncarl\ndora\nemil\nfrida\ngustav\nhanna\nida\njonas\n";

    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-positions").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Data => Path.Combine(dir, "names.txt");

    string Train(string positions, params string[] more)
    {
        File.WriteAllText(Data, Names);
        string run = Path.Combine(dir, positions);
        var (code, _, error) = VectorsCliTests.Run(
        [
            "train", "--data", Data, "--positions", positions, "--steps", "4", "--snapshot-every", "2", "--out", run, "--json", "--threads", "1", .. more,
        ]);
        Assert.True(code == 0, error);
        return run;
    }

    [Theory]
    [InlineData("sinusoidal")]
    [InlineData("rope")]
    [InlineData("none")]
    public void Train_PositionsNotLearned_RecordedWithoutWpeAndReadByEveryVerb(string positions)
    {
        string run = Train(positions);

        Assert.Equal(positions, JsonNode.Parse(File.ReadAllText(Path.Combine(run, Checkpoint.ConfigFile)))!["positions"]!.GetValue<string>());
        Assert.DoesNotContain("wpe.weight", SafetensorsFile.Open(Path.Combine(run, Checkpoint.ModelFile)).Entries.Keys);
        var frames = Snapshots.List(run);
        Assert.Equal([0, 2, 4], frames.Select(f => f.Step));
        Assert.Equal(["wte.weight"], SafetensorsFile.Open(frames[^1].Path).Entries.Keys);
        Assert.Null(frames[^1].LoadFrame().Wpe);

        var (code, output, error) = VectorsCliTests.Run("sample", "--checkpoint", run, "--count", "2", "--seed", "3", "--json");
        Assert.True(code == 0, error);
        Assert.Equal(2, JsonDocument.Parse(output).RootElement.GetProperty("samples").GetArrayLength());
        (code, output, error) = VectorsCliTests.Run("evaluate", "loss", "--checkpoint", run, "--data", Data, "--json");
        Assert.True(code == 0, error);
        Assert.InRange(JsonDocument.Parse(output).RootElement.GetProperty("loss").GetDouble(), 1, 4);
        (code, output, error) = VectorsCliTests.Run("neighbors", "--vectors", run, "a", "--top", "3", "--json");
        Assert.True(code == 0, error);
        (code, output, error) = VectorsCliTests.Run("evaluate", "formation", "--snapshots", run, "--json");
        Assert.True(code == 0, error);
        var formation = JsonDocument.Parse(output).RootElement;
        Assert.Equal(JsonValueKind.Null, formation.GetProperty("steps")[2].GetProperty("wpe").ValueKind);
        Assert.Equal(JsonValueKind.Null, formation.GetProperty("settled").GetProperty("wpe").ValueKind);

        (code, output, error) = VectorsCliTests.Run("inspect", "--checkpoint", run);
        Assert.True(code == 0, error);
        Assert.Contains($"{positions} positions", output);
        Assert.Contains(positions switch
        {
            "sinusoidal" => "wpe bands of the fixed sinusoids (not learned), mean cosine of positions d apart: d=1 ",
            "rope" => "wpe: none (rotary positions turn q and k inside attention)",
            _ => "wpe: none (the model has no position encoding)",
        }, output);
    }

    [Fact]
    public void Train_RopeResumedAsLearned_RefusedNamingPositions()
    {
        string run = Train("rope");

        var (code, _, error) = VectorsCliTests.Run("train", "--data", Data, "--positions", "learned", "--steps", "6", "--out", run, "--resume");

        Assert.Equal(1, code);
        Assert.Contains("--positions learned (the run's: rope)", error);
    }

    [Fact]
    public void Train_UnknownPositions_ListsTheFour()
    {
        File.WriteAllText(Data, Names);

        var (code, _, error) = VectorsCliTests.Run("train", "--data", Data, "--positions", "alibi", "--out", Path.Combine(dir, "x"));

        Assert.Equal(1, code);
        Assert.Equal("error: --positions must be learned, sinusoidal, rope, none, got 'alibi'", error.Split('\n')[0].Trim());
    }

    [Fact]
    public void ReadConfig_UnknownPositions_NamesFileAndChoices()
    {
        string path = Path.Combine(dir, Checkpoint.ConfigFile);
        File.WriteAllText(path, """{"vocab_size": 5, "n_positions": 4, "n_embd": 4, "n_layer": 1, "n_head": 1, "positions": "alibi"}""");

        var e = Assert.Throws<FileFormatException>(() => Checkpoint.ReadConfigFile(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("positions \"alibi\" is not supported; expected learned, sinusoidal, rope, none", e.Message);
    }
}
