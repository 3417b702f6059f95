using System.Globalization;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Plotting;
using TokenSpace.Projection;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// The demo's pictures, drawn from what training left in its directory: the letters' learned <c>wte</c>
/// (PCA), the cosine similarity of the <c>wpe</c> rows, and the page of <c>wte</c> snapshots forming.
/// </summary>
static class DemoMaps
{
    /// <summary>Snapshot interval of the demo's run: 21 frames over microgpt's 1000 steps.</summary>
    public const int SnapshotEvery = 50;

    /// <summary>The three files <see cref="Write"/> produced.</summary>
    public sealed record Paths(string EmbeddingsMap, string Positions, string Training);

    /// <summary>
    /// Writes <c>embeddings-map.svg</c>, <c>positions.svg</c> and <c>training.html</c> (+ <c>training-frames/</c>)
    /// into <paramref name="outDir"/>, the checkpoint directory of a run that saved snapshots (its last one is the
    /// trained embeddings, so the page ends where training did).
    /// </summary>
    /// <exception cref="FileFormatException">The checkpoint or a snapshot is malformed.</exception>
    public static Paths Write(string outDir)
    {
        var paths = new Paths(Path.Combine(outDir, "embeddings-map.svg"), Path.Combine(outDir, "positions.svg"),
            Path.Combine(outDir, "training.html"));

        using (var wte = VectorsFile.Load(outDir))
        {
            var pca = Pca.Fit(wte.Vectors, wte.Count, wte.Dimensions, 2);
            var (xAxis, yAxis) = MapCommand.AxisNames("pca", pca.ExplainedVarianceRatio);
            ScatterPlot.Write(paths.EmbeddingsMap, wte.Keys, pca.Coordinates, new ScatterOptions
            {
                Title = "Learned token embeddings (wte) of the demo · PCA",
                Subtitle = $"{wte.Count} tokens × {wte.Dimensions} dimensions · axes explain {pca.ExplainedVarianceRatio[0]:P1} and " +
                    $"{pca.ExplainedVarianceRatio[1]:P1} of the variance",
                Groups = wte.Keys.Select(LetterGroups.Of).ToArray(),
                XAxis = xAxis,
                YAxis = yAxis,
                FontSize = 14,
                PointRadius = 6,
            });
        }

        using (var wpe = VectorsFile.Load(outDir, options: new VectorsLoadOptions { Tensor = "wpe" }))
        {
            var labels = Enumerable.Range(0, wpe.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            HeatmapPlot.Write(paths.Positions, labels, labels, HeatmapPlot.CosineSimilarity(wpe.Vectors, wpe.Count, wpe.Dimensions),
                new HeatmapOptions
            {
                Title = "Learned position embeddings (wpe) · cosine similarity",
                Subtitle = "row i, column j: cos(wpe[i], wpe[j])",
            });
        }

        SnapshotMap.Write(outDir, paths.Training, tsne: false, all => LoadedVectors.Take(all, all.Count), _ => new TsneOptions(),
            keys => keys.Select(LetterGroups.Of).ToArray(), "The demo's letters (wte) forming during training · PCA per step");
        return paths;
    }
}
