using System.ComponentModel;
using System.Globalization;
using System.Text.RegularExpressions;
using TokenSpace.Formats;
using TokenSpace.Plotting;
using TokenSpace.Projection;

namespace TokenSpace.Server;

/// <summary>
/// <c>/api/snapshots</c>: the <c>wte</c> snapshots of a checkpoint trained with <c>--snapshot-every</c>, each
/// projected by PCA on its own and aligned to the last (<see cref="TrainingAnimation.AlignToLast"/>), as
/// <c>tokenspace map --snapshots</c> draws them: the page's training timeline.
/// </summary>
static partial class SnapshotsApi
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/snapshots", Snapshots).WithSummary("The aligned PCA frames of a checkpoint's wte snapshots, for the training timeline");

    static SnapshotsResult Snapshots(Catalog catalog, [Description("A loaded space's name (default: the first)")] string? space)
    {
        var s = catalog.Get(space);
        string folder = s.RunDirectory is null ? "" : Path.Combine(s.RunDirectory, "snapshots");
        var files = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "step-*.safetensors").Select(p => (Match: StepName().Match(Path.GetFileName(p)), Path: p))
                .Where(m => m.Match.Success).OrderBy(m => m.Path, StringComparer.Ordinal).ToList()
            : [];
        if (files.Count == 0)
        {
            throw new ApiException("space", $"{s.Name} has no snapshots; train with --snapshot-every N to record them", StatusCodes.Status404NotFound);
        }
        var frames = new List<MapFrame>();
        foreach (var (match, path) in files)
        {
            using var kv = VectorsFile.Load(path, VectorFormat.Safetensors, new VectorsLoadOptions { Tensor = "wte" });
            var xy = Pca.Fit(kv.Vectors, kv.Count, kv.Dimensions, 2).Coordinates;
            frames.Add(new MapFrame(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), [.. kv.Keys], xy));
        }
        return new SnapshotsResult("pca", [.. TrainingAnimation.AlignToLast(frames).Select(f => new SnapshotFrame(f.Step, null,
            [.. f.Keys.Select((key, i) => new MapPoint(key, f.Coordinates[2 * i], f.Coordinates[2 * i + 1]))]))]);
    }

    [GeneratedRegex(@"^step-(\d+)\.safetensors$")]
    private static partial Regex StepName();
}
