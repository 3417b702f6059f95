using System.ComponentModel;
using System.Text.Json;
using TokenSpace.Evaluation;
using TokenSpace.IO;
using TokenSpace.Plotting;
using TokenSpace.Projection;
using TokenSpace.Training;

namespace TokenSpace.Server;

/// <summary>
/// <c>/api/snapshots</c>: the <c>wte</c> snapshots of a checkpoint trained with <c>--snapshot-every</c> (<see cref="Snapshots"/>),
/// each projected by PCA on its own and aligned to the last (<see cref="TrainingAnimation.AlignToLast"/>), as
/// <c>tokenspace map --snapshots</c> draws them, with the training loss each frame recorded and the formation
/// metrics <c>train</c> logged beside the frames: the page's training timeline.
/// </summary>
static class SnapshotsApi
{
    static readonly JsonSerializerOptions LogOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/snapshots", Frames)
            .WithSummary("The aligned PCA frames of a checkpoint's wte snapshots, with loss and formation metrics (the training timeline)");

    static SnapshotsResult Frames(Catalog catalog, [Description("A loaded space's name (default: the first)")] string? space)
    {
        var s = catalog.Get(space);
        var found = s.RunDirectory is null ? [] : Snapshots.List(s.RunDirectory);
        if (found.Count == 0)
        {
            throw new ApiException("space", $"{s.Name} has no snapshots; train with --snapshot-every N to record them",
                StatusCodes.Status404NotFound);
        }
        // Every frame's rows are the ids of the one tokenizer beside them: read the keys once.
        IReadOnlyList<string> keys;
        using (var last = found[^1].Load()) keys = [.. last.Keys];
        var frames = new List<MapFrame>();
        var losses = new Dictionary<int, double?>();
        foreach (var snapshot in found)
        {
            var frame = snapshot.LoadFrame();
            int rows = frame.Wte.Length / frame.Channels;
            if (rows != keys.Count)
            {
                throw new FileFormatException(snapshot.Path, $"wte.weight has {rows} rows; its tokenizer has {keys.Count} tokens");
            }
            frames.Add(new MapFrame(frame.Step, keys, Pca.Fit(frame.Wte, rows, frame.Channels, 2).Coordinates));
            losses[frame.Step] = frame.Loss;
        }
        var metrics = FormationLog(s.RunDirectory!);
        return new SnapshotsResult("pca", [.. TrainingAnimation.AlignToLast(frames).Select(f => new SnapshotFrame(f.Step, losses[f.Step],
            [.. f.Keys.Select((key, i) => new MapPoint(key, f.Coordinates[2 * i], f.Coordinates[2 * i + 1]))],
            metrics.TryGetValue(f.Step, out var step) ? step : null))]);
    }

    /// <summary>
    /// The records of <c>snapshots/formation.jsonl</c> by step; none when the run logged none, or when the log cannot be
    /// read (the metrics are extra: the frames are shown without them).
    /// </summary>
    static Dictionary<int, FormationStep> FormationLog(string run)
    {
        string path = Path.Combine(Snapshots.Folder(run), Snapshots.FormationLogName);
        var byStep = new Dictionary<int, FormationStep>();
        if (!File.Exists(path)) return byStep;
        try
        {
            foreach (string line in File.ReadLines(path))
            {
                if (line.Length > 0 && JsonSerializer.Deserialize<FormationStep>(line, LogOptions) is { } step) byStep[step.Step] = step;
            }
        }
        catch (JsonException)
        {
            byStep.Clear();
        }
        return byStep;
    }
}
