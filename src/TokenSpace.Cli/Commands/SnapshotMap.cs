using System.Globalization;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Plotting;
using TokenSpace.Projection;
using TokenSpace.Training;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// Maps of the <c>wte</c> snapshots a training run saved (<c>train --snapshot-every N</c>, see
/// <c>Trainer.SaveSnapshot</c>): each projected to 2-D on its own, aligned to the last by
/// <see cref="TrainingAnimation"/>, written as one HTML page and a folder of frame SVGs.
/// </summary>
static class SnapshotMap
{
    /// <summary>What was written: the frames as aligned on the page, and the folder of frame SVGs.</summary>
    public sealed record Result(IReadOnlyList<MapFrame> Frames, string FramesDirectory);

    /// <summary>The snapshots of <paramref name="run"/> (a run directory, or its <c>snapshots</c> folder) in step order.</summary>
    /// <exception cref="DirectoryNotFoundException">There is no snapshots folder.</exception>
    /// <exception cref="FileNotFoundException">The folder holds no <c>step-NNNNNN.safetensors</c>.</exception>
    public static IReadOnlyList<Snapshot> Find(string run)
    {
        if (!Directory.Exists(run))
            throw new DirectoryNotFoundException($"{run} does not exist; expected a training run's directory (train --snapshot-every N " +
                "--out DIR)");
        var found = Snapshots.List(run);
        if (found.Count == 0)
        {
            string folder = Directory.Exists(Snapshots.Folder(run)) ? Snapshots.Folder(run) : run;
            throw new FileNotFoundException($"{folder} holds no step-NNNNNN.safetensors snapshots; train with --snapshot-every N to save " +
                "them", folder);
        }
        return found;
    }

    /// <summary>The folder of frame SVGs that goes with the page <paramref name="page"/>: <c>training.html</c> →
    /// <c>training-frames</c>.</summary>
    public static string FramesDirectory(string page) => Path.ChangeExtension(page, null) + "-frames";

    /// <summary>
    /// Projects the rows <paramref name="choose"/> picks from every snapshot (PCA, or t-SNE when
    /// <paramref name="tsne"/>), then writes the page <paramref name="page"/> and its frames (replacing frames
    /// an earlier run left in that folder).
    /// </summary>
    /// <exception cref="FileFormatException">A snapshot or its tokenizer.json is malformed.</exception>
    /// <exception cref="ArgumentException">Snapshots with different keys, or fewer than 3 points.</exception>
    public static Result Write(string run, string page, bool tsne, Func<KeyedVectors, LoadedVectors> choose,
        Func<int, TsneOptions> tsneOptions, Func<IReadOnlyList<string>, string?[]> groups, string? title = null)
    {
        var frames = new List<MapFrame>();
        double[]? explained = null; // the last frame's, whose axes every frame is aligned to
        foreach (var frame in Find(run))
        {
            LoadedVectors rows;
            using (var kv = frame.Load()) rows = choose(kv);
            int n = rows.Keys.Length;
            if (n < 3) throw new ArgumentException($"a map needs at least 3 points, got {n}");
            double[] xy;
            if (tsne)
            {
                xy = Tsne.Fit(rows.Matrix, n, rows.Dims, tsneOptions(n)).Coordinates;
            }
            else
            {
                var pca = Pca.Fit(rows.Matrix, n, rows.Dims, 2);
                (xy, explained) = (pca.Coordinates, pca.ExplainedVarianceRatio);
            }
            frames.Add(new MapFrame(frame.Step, rows.Keys, xy, frame.LoadTrainLoss()));
        }
        string framesDir = FramesDirectory(page);
        if (Directory.Exists(framesDir))
        {
            foreach (string stale in Directory.EnumerateFiles(framesDir, "step-*.svg")) File.Delete(stale);
        }
        var keys = frames[^1].Keys;
        var (x, y) = MapCommand.AxisNames(tsne ? "tsne" : "pca", explained);
        string of = string.Create(CultureInfo.InvariantCulture, $" (step {frames[^1].Step:N0})");
        TrainingAnimation.Write(page, frames, framesDir, new AnimationOptions
        {
            XAxis = x + of,
            YAxis = y + of,
            Title = title ?? $"{VectorOptions.DisplayName(run)}: token embeddings (wte) forming during training · " +
                $"{(tsne ? "t-SNE" : "PCA")}",
            Groups = groups(keys),
        });
        return new Result(TrainingAnimation.AlignToLast(frames), framesDir);
    }

}
