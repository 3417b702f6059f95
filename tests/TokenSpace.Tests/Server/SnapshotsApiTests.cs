using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenSpace.Cli.Commands;
using TokenSpace.Formats;
using TokenSpace.Model;
using TokenSpace.Server;
using TokenSpace.Training;

namespace TokenSpace.Tests.Server;

/// <summary><c>/api/snapshots</c> on a run trained by <c>train --snapshot-every</c>: frames, the loss each recorded, the formation log.</summary>
[Collection(ProcessWideState.Name)]
public sealed class SnapshotsApiTests : IDisposable
{
    const string Names = "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\nabigail\nemily\n";

    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-snapshots-api").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Train()
    {
        string data = Path.Combine(dir, "names.txt");
        File.WriteAllText(data, Names);
        string run = Path.Combine(dir, "run");
        TrainCommand.Run(data, null, GptConfig.MicroGpt, new TrainOptions { Steps = 5, SnapshotEvery = 2, EvalEvery = 2, Seed = 1 }, run,
            new TrainCommand.RunSettings { Quiet = true, Overwrite = true });
        return run;
    }

    [Fact]
    public async Task Snapshots_TrainedRun_FramesCarryTheirLossAndFormationRecord()
    {
        string run = Train();
        using var factory = new ExplorerFactory(new ExplorerOptions { Spaces = [new Space("run", run, VectorsFile.Load(run), run)] });
        using var client = factory.CreateClient();
        using var response = await client.GetAsync("/api/snapshots?space=run", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var frames = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["frames"]!.AsArray();

        var snapshots = Snapshots.List(run);
        Assert.Equal([0, 2, 4, 5], frames.Select(f => f!["step"]!.GetValue<int>()));
        var log = File.ReadLines(Path.Combine(Snapshots.Folder(run), Snapshots.FormationLogName)).Select(l => JsonNode.Parse(l)!).ToList();
        for (int i = 0; i < frames.Count; i++)
        {
            var frame = frames[i]!;
            double? loss = snapshots[i].LoadFrame().Loss;
            Assert.Equal(loss, frame["loss"]?.GetValue<double>());
            Assert.Equal(i == 0, loss is null); // the first frame comes before any step
            using (var kv = snapshots[i].Load()) Assert.Equal(kv.Keys, frame["points"]!.AsArray().Select(p => p!["key"]!.GetValue<string>()));
            Assert.Equal(log[i]["wte"]!["overlap_with_previous"]?.GetValue<double>(), frame["formation"]!["wte"]!["overlap_with_previous"]?.GetValue<double>());
            Assert.Equal(log[i]["wte"]!["mean_norm"]!.GetValue<double>(), frame["formation"]!["wte"]!["mean_norm"]!.GetValue<double>());
        }
        Assert.NotNull(frames[1]!["formation"]!["wte"]!["overlap_with_previous"]);
    }

    [Fact]
    public async Task Snapshots_NoFormationLog_FramesWithoutFormation()
    {
        string run = Train();
        File.Delete(Path.Combine(Snapshots.Folder(run), Snapshots.FormationLogName));
        using var factory = new ExplorerFactory(new ExplorerOptions { Spaces = [new Space("run", run, VectorsFile.Load(run), run)] });
        using var client = factory.CreateClient();
        using var json = JsonDocument.Parse(await client.GetStringAsync("/api/snapshots?space=run", TestContext.Current.CancellationToken));
        var frames = json.RootElement.GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal(4, frames.Count);
        Assert.All(frames, f => Assert.False(f.TryGetProperty("formation", out _)));
        Assert.True(frames[^1].GetProperty("loss").GetDouble() > 0);
    }
}
