using System.Text.Json;
using System.Xml.Linq;
using TokenSpace.Cli.Commands;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Training;

namespace TokenSpace.Tests.Cli;

/// <summary><c>train --snapshot-every</c> recording formation metrics, and <c>evaluate formation</c> end to end.</summary>
[Collection(ProcessWideState.Name)]
public sealed class FormationCliTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-formation").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    const string Names = "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\nabigail\nemily\n";

    string Train(int steps, int snapshotEvery, bool resume = false)
    {
        string data = Path.Combine(dir, "names.txt");
        File.WriteAllText(data, Names);
        string run = Path.Combine(dir, "run");
        TrainCommand.Run(data, null, GptConfig.MicroGpt, new TrainOptions { Steps = steps, SnapshotEvery = snapshotEvery, EvalEvery = 2, Seed = 1 }, run,
            new TrainCommand.RunSettings { Quiet = true, Overwrite = true, Resume = resume ? (saved, _, _) => saved.Continued(steps, null) : null });
        return run;
    }

    static int[] LoggedSteps(string run) =>
        File.ReadLines(Path.Combine(run, "snapshots", Snapshots.FormationLogName)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).ToArray();

    [Fact]
    public void Train_SnapshotEvery_RecordsEachFrameAndEndsOnTheTrainedModel()
    {
        string run = Train(steps: 5, snapshotEvery: 2);

        Assert.Equal([0, 2, 4, 5], LoggedSteps(run));
        var first = new Snapshot(0, Path.Combine(run, "snapshots", "step-000000.safetensors")).LoadFrame();
        var third = new Snapshot(0, Path.Combine(run, "snapshots", "step-000004.safetensors")).LoadFrame();
        Assert.Null(first.Loss);
        Assert.InRange(third.Loss!.Value, 1, 5); // the mean of steps 2 and 3, near ln 27 at the start
        var record = JsonDocument.Parse(File.ReadLines(Path.Combine(run, "snapshots", Snapshots.FormationLogName)).ElementAt(2)).RootElement;
        Assert.Equal(third.Loss.Value, record.GetProperty("loss").GetDouble());
        Assert.True(record.GetProperty("wte").GetProperty("disparity_to_previous").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, record.GetProperty("wte").GetProperty("disparity_to_final").ValueKind);
    }

    [Fact]
    public void Train_Resumed_KeepsTheRecordsBeforeItsFirstStep()
    {
        Train(steps: 4, snapshotEvery: 2);
        string run = Train(steps: 6, snapshotEvery: 2, resume: true);

        Assert.Equal([0, 2, 4, 6], LoggedSteps(run));
    }

    [Fact]
    public void EvaluateFormation_Json_HasEveryStepAndTokenAndIsTheSameForAnyThreadCount()
    {
        string run = Train(steps: 6, snapshotEvery: 2);
        string svg = Path.Combine(dir, "formation.svg");

        var (code, one, error) = VectorsCliTests.Run("evaluate", "formation", "--snapshots", run, "--json", "--threads", "1", "--out", svg);
        var (_, two, _) = VectorsCliTests.Run("evaluate", "formation", "--snapshots", run, "--json", "--threads", "2");

        Assert.True(code == 0, error);
        Assert.Equal(one, two);
        var doc = JsonDocument.Parse(one).RootElement;
        Assert.Equal([0, 2, 4, 6], doc.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step").GetInt32()));
        var last = doc.GetProperty("steps")[3].GetProperty("wte");
        Assert.Equal(1, last.GetProperty("overlap_with_final").GetDouble());
        Assert.NotEqual(JsonValueKind.Null, last.GetProperty("silhouette").ValueKind);
        var (_, tokenizer) = Checkpoint.Load(run);
        Assert.Equal(Enumerable.Range(0, tokenizer.VocabSize).Select(tokenizer.TokenText),
            doc.GetProperty("settled").GetProperty("wte").EnumerateArray().Select(t => t.GetProperty("token").GetString()));
        Assert.Equal(16, doc.GetProperty("settled").GetProperty("wpe").GetArrayLength());
        var chart = XDocument.Load(svg);
        Assert.Equal(10, chart.Descendants(XName.Get("g", "http://www.w3.org/2000/svg")).Count(g => (string?)g.Attribute("class") == "panel"));
    }

    [Fact]
    public void EvaluateFormation_Table_ShowsBothMatricesAndTheSummary()
    {
        string run = Train(steps: 4, snapshotEvery: 2);

        var (code, output, error) = VectorsCliTests.Run("evaluate", "formation", "--snapshots", run);

        Assert.True(code == 0, error);
        Assert.Contains("wte (tokens)", output);
        Assert.Contains("wpe (positions)", output);
        Assert.Contains("wte forming, 3 snapshots to step 4", output);
    }

    [Fact]
    public void EvaluateFormation_NoSnapshots_ExitsWithOneAndSaysWhy()
    {
        var (code, _, error) = VectorsCliTests.Run("evaluate", "formation", "--snapshots", Path.Combine(dir, "missing"));

        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains("missing does not exist", error);
    }

    [Fact]
    public void Snapshot_LoadFrame_NotASnapshot_ThrowsNamingTheFile()
    {
        string path = Path.Combine(dir, "other.safetensors");
        SafetensorsFile.Write(path, [("weight", [2L, 2L], new float[4])]);

        var e = Assert.Throws<FileFormatException>(() => new Snapshot(0, path).LoadFrame());
        Assert.Contains("other.safetensors", e.Message);
        Assert.Contains("wte.weight", e.Message);
    }

    [Fact]
    public void InspectCheckpoint_WithData_ShowsFormationFrequentTokensAndBands()
    {
        string run = Train(steps: 4, snapshotEvery: 2);

        var (code, output, error) = VectorsCliTests.Run("inspect", "--checkpoint", run, "--data", Path.Combine(dir, "names.txt"), "--top", "3", "--json");

        Assert.True(code == 0, error);
        var doc = JsonDocument.Parse(output).RootElement;
        Assert.Equal(2, doc.GetProperty("formation").GetProperty("summary").GetArrayLength());
        var frequent = doc.GetProperty("frequent_tokens");
        Assert.Equal("data", frequent.GetProperty("source").GetString());
        // 12 names: a separator around each, then a (14 times) and i (9).
        Assert.Equal(["<BOS>", "a", "i"], frequent.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("token").GetString()));
        Assert.Equal([24L, 14L, 9L], frequent.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("count").GetInt64()));
        Assert.All(frequent.GetProperty("tokens").EnumerateArray(), t => Assert.Equal(5, t.GetProperty("neighbors").GetArrayLength()));
        Assert.Equal([1, 2, 4, 8], doc.GetProperty("wpe_bands").GetProperty("by_distance").EnumerateArray().Select(b => b.GetProperty("distance").GetInt32()));
    }

    [Fact]
    public void Inspect_BothVectorsAndCheckpoint_ExitsWithOne()
    {
        var (code, _, error) = VectorsCliTests.Run("inspect", "--checkpoint", dir, "--vectors", dir);

        Assert.Equal(1, code);
        Assert.Contains("exactly one of --vectors FILE and --checkpoint DIR", error);
    }
}
