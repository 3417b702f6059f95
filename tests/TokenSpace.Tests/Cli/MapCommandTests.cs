using System.CommandLine;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using TokenSpace.Cli;
using TokenSpace.Cli.Commands;
using TokenSpace.Formats;
using TokenSpace.Model;
using TokenSpace.Plotting;
using TokenSpace.Projection;
using TokenSpace.Training;

namespace TokenSpace.Tests.Cli;

[Collection(ProcessWideState.Name)]
public sealed class MapCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-mapcli").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Runs a verb under a root carrying the global options, as Program.cs does.</summary>
    static int Run(params string[] args)
    {
        var root = new RootCommand { CliOptions.Json, CliOptions.Threads, CliOptions.Verbose };
        root.Subcommands.Add(MapCommand.Create());
        root.Subcommands.Add(HeatmapCommand.Create());
        return root.Parse(args).Invoke();
    }

    string Vectors(string text)
    {
        string path = Path.Combine(dir, "vectors.txt");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Map_WordsWithGroups_WritesSvgWithEveryPointAndLabel()
    {
        string path = Vectors("a 1 0 0\ne 0.9 0.1 0\nb 0 1 0\nc 0 0.9 0.2\nd 0.1 0.1 1\n");
        string groups = Path.Combine(dir, "groups.tsv");
        File.WriteAllText(groups, "key\tkind\na\tvowel\ne\tvowel\nb\tconsonant\n");
        string output = Path.Combine(dir, "map.svg");

        int code = Run("map", "--vectors", path, "--words", "a,e,b,c", "--labels", "--groups", groups, "--out", output);

        Assert.Equal(0, code);
        XNamespace s = "http://www.w3.org/2000/svg";
        var svg = XDocument.Load(output);
        Assert.Equal(4, svg.Descendants(s + "circle").Count(c => (string?)c.Attribute("class") == "point"));
        Assert.Equal(["a", "e", "b", "c"], svg.Descendants(s + "text").Where(t => (string?)t.Attribute("class") == "label").Select(t => t.Value));
        Assert.Equal(["vowel", "consonant"], svg.Descendants(s + "g").Single(g => (string?)g.Attribute("class") == "legend").Descendants(s + "text").Select(t => t.Value));
    }

    [Fact]
    public void Map_Umap_WritesSvgAndJsonWithTheLibrarysLayout()
    {
        // 40 words in two tight groups of 20: the map's JSON is the library's layout for the same settings.
        var random = new Random(3);
        var lines = Enumerable.Range(0, 40).Select(i =>
            $"w{i} " + string.Join(' ', Enumerable.Range(0, 4).Select(j => ((j == i / 20 ? 5 : 0) + random.NextDouble()).ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        string path = Vectors(string.Join('\n', lines) + "\n");
        string output = Path.Combine(dir, "umap.svg");

        var (code, json, error) = VectorsCliTests.Run("map", "--vectors", path, "--top", "40", "--method", "umap", "--neighbors", "8", "--min-dist", "0.3",
            "--seed", "2", "--out", output, "--json");

        Assert.True(code == 0, error);
        var document = JsonDocument.Parse(json).RootElement;
        Assert.Equal("umap", document.GetProperty("method").GetString());
        Assert.Equal(Umap.SmallEpochs, document.GetProperty("epochs").GetInt32());
        var vectors = VectorsFile.Load(path);
        var matrix = Enumerable.Range(0, 40).SelectMany(i => vectors.GetVector($"w{i}").ToArray()).ToArray();
        var expected = Umap.Fit(matrix, 40, 4, new UmapOptions { Neighbors = 8, MinDist = 0.3, Seed = 2 }, cancellationToken: TestContext.Current.CancellationToken);
        var points = document.GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal(40, points.Length);
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal($"w{i}", points[i].GetProperty("key").GetString());
            Assert.Equal(expected.Coordinates[2 * i], points[i].GetProperty("x").GetDouble());
            Assert.Equal(expected.Coordinates[2 * i + 1], points[i].GetProperty("y").GetDouble());
        }
        XNamespace s = "http://www.w3.org/2000/svg";
        Assert.Equal(40, XDocument.Load(output).Descendants(s + "circle").Count(c => (string?)c.Attribute("class") == "point"));
    }

    [Fact]
    public void Map_UmapMoreNeighboursThanPoints_ExitsWithOneNamingTheLimit()
    {
        string path = Vectors("a 1 0\nb 0 1\nc 1 1\nd 2 1\n");
        var (code, _, error) = VectorsCliTests.Run("map", "--vectors", path, "--method", "umap", "--neighbors", "9", "--out", Path.Combine(dir, "m.svg"));
        Assert.Equal(1, code);
        Assert.Contains("at most the number of points (4)", error);
        Assert.False(File.Exists(Path.Combine(dir, "m.svg")));
    }

    [Fact]
    public void Map_UnknownWord_ExitsWithOne()
    {
        string path = Vectors("a 1 0\nb 0 1\nc 1 1\n");
        int code = Run("map", "--vectors", path, "--words", "a,b,zzz", "--out", Path.Combine(dir, "m.svg"));
        Assert.Equal(1, code);
        Assert.False(File.Exists(Path.Combine(dir, "m.svg")));
    }

    static readonly XNamespace SvgNs = "http://www.w3.org/2000/svg";

    const string Names = "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\nabigail\nemily\n";

    /// <summary>A few steps of microgpt through the train verb's loop, saving snapshots at 0, 2, 4, 6.</summary>
    string TrainRun(int steps = 6, int snapshotEvery = 2)
    {
        string data = Path.Combine(dir, "names.txt");
        File.WriteAllText(data, Names);
        string run = Path.Combine(dir, "run");
        TrainCommand.Run(data, null, GptConfig.MicroGpt, new TrainOptions { Steps = steps, SnapshotEvery = snapshotEvery, EvalEvery = 0, Seed = 1 }, run,
            new TrainCommand.RunSettings { Quiet = true, Overwrite = true });
        return run;
    }

    static XElement[] Marks(XDocument svg, string element, string cls) =>
        svg.Descendants(SvgNs + element).Where(e => (string?)e.Attribute("class") == cls).ToArray();

    /// <summary>The frames array the training page's script plays.</summary>
    static JsonElement[] PageFrames(string html)
    {
        var match = Regex.Match(html, @"^const frames = (\[.*\]);$", RegexOptions.Multiline);
        Assert.True(match.Success, "the page has no frames array");
        return JsonDocument.Parse(match.Groups[1].Value).RootElement.EnumerateArray().ToArray();
    }

    [Fact]
    public void Map_CheckpointDirectory_MapsEveryTokenWithItsText()
    {
        string run = TrainRun(steps: 2, snapshotEvery: 0);
        string output = Path.Combine(dir, "letters.svg");

        int code = Run("map", "--vectors", run, "--method", "pca", "--top", "27", "--labels", "--groups", "letters", "--out", output);

        Assert.Equal(0, code);
        var svg = XDocument.Load(output);
        var (_, tokenizer) = Checkpoint.Load(run);
        var expected = Enumerable.Range(0, tokenizer.VocabSize).Select(tokenizer.TokenText).ToArray();
        Assert.Equal(expected, Marks(svg, "circle", "point").Select(c => c.Element(SvgNs + "title")!.Value));
        Assert.Contains("<BOS>", Marks(svg, "text", "label").Select(t => t.Value));
        Assert.Equal(["vowel", "consonant", "BOS"], svg.Descendants(SvgNs + "g").Single(g => (string?)g.Attribute("class") == "legend").Descendants(SvgNs + "text").Select(t => t.Value));
    }

    [Fact]
    public void Heatmap_CheckpointPositions_ComparesWpeRows()
    {
        string run = TrainRun(steps: 2, snapshotEvery: 0);
        string output = Path.Combine(dir, "positions.svg");

        int code = Run("heatmap", "--vectors", run, "--positions", "--count", "4", "--out", output);

        Assert.Equal(0, code);
        var (model, _) = Checkpoint.Load(run);
        var wpe = model.PositionEmbeddings[..(4 * 16)].ToArray();
        var expected = HeatmapPlot.CosineSimilarity(wpe, 4, 16);
        var cells = Marks(XDocument.Load(output), "rect", "cell").Select(c => double.Parse((string)c.Attribute("data-value")!, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(expected, cells);
    }

    [Fact]
    public void Map_Snapshots_WritesOnePageFramePerSnapshotAndParsableSvgs()
    {
        string run = TrainRun();
        string page = Path.Combine(dir, "training.html");

        int code = Run("map", "--snapshots", run, "--out", page);

        Assert.Equal(0, code);
        var frames = PageFrames(File.ReadAllText(page));
        Assert.Equal([0, 2, 4, 6], frames.Select(f => f.GetProperty("step").GetInt32()));
        int tokens = CharTokenizerSize(run);
        Assert.All(frames, f => Assert.Equal(2 * tokens, f.GetProperty("xy").GetArrayLength()));
        var svgs = Directory.GetFiles(SnapshotMap.FramesDirectory(page), "*.svg").Order().ToArray();
        Assert.Equal(["step-000000.svg", "step-000002.svg", "step-000004.svg", "step-000006.svg"], svgs.Select(Path.GetFileName));
        foreach (string svg in svgs)
        {
            var doc = XDocument.Load(svg);
            Assert.Equal(tokens, Marks(doc, "circle", "point").Length);
            Assert.Contains("BOS", doc.Descendants(SvgNs + "g").Single(g => (string?)g.Attribute("class") == "legend").Descendants(SvgNs + "text").Select(t => t.Value));
        }
    }

    [Fact]
    public void Map_SnapshotsTsne_LastFrameIsTheProjectionOfTheLastSnapshot()
    {
        string run = TrainRun();
        string page = Path.Combine(dir, "tsne.html");

        int code = Run("map", "--snapshots", run, "--method", "tsne", "--iterations", "300", "--out", page);

        Assert.Equal(0, code);
        Assert.Equal(4, PageFrames(File.ReadAllText(page)).Length);
        // Aligning to the last frame leaves the last frame where t-SNE put it.
        using var last = VectorsFile.Load(Path.Combine(run, "snapshots", "step-000006.safetensors"));
        int n = last.Count;
        var tsne = TokenSpace.Projection.Tsne.Fit(last.Vectors, n, last.Dimensions, new TokenSpace.Projection.TsneOptions { Perplexity = (n - 1) / 3.0, MaxIter = 300 },
            cancellationToken: TestContext.Current.CancellationToken);
        var result = SnapshotMap.Write(run, Path.Combine(dir, "again.html"), tsne: true, all => LoadedVectors.Take(all, all.Count),
            k => new TokenSpace.Projection.TsneOptions { Perplexity = (k - 1) / 3.0, MaxIter = 300 }, keys => keys.Select(LetterGroups.Of).ToArray());
        Assert.Equal(tsne.Coordinates, result.Frames[^1].Coordinates, (a, b) => Math.Abs(a - b) < 1e-9);
    }

    [Fact]
    public void Map_SnapshotsOfRunWithout_ExitsWithOne()
    {
        string run = TrainRun(steps: 2, snapshotEvery: 0);
        Assert.Equal(1, Run("map", "--snapshots", run, "--out", Path.Combine(dir, "p.html")));
        Assert.False(File.Exists(Path.Combine(dir, "p.html")));
    }

    [Fact]
    public void Map_BothVectorsAndSnapshots_ExitsWithOne()
    {
        string path = Vectors("a 1 0\nb 0 1\nc 1 1\n");
        Assert.Equal(1, Run("map", "--vectors", path, "--snapshots", dir, "--out", Path.Combine(dir, "m.svg")));
    }

    [Fact]
    public void DemoMaps_Write_WritesLetterMapPositionsAndTrainingPage()
    {
        string run = TrainRun(steps: 5, snapshotEvery: 2);

        var paths = DemoMaps.Write(run);

        var map = XDocument.Load(paths.EmbeddingsMap);
        int tokens = CharTokenizerSize(run);
        Assert.Equal(tokens, Marks(map, "circle", "point").Length);
        Assert.Equal(tokens, Marks(map, "text", "label").Length);
        Assert.Equal(16 * 16, Marks(XDocument.Load(paths.Positions), "rect", "cell").Length);
        // Snapshots at 0, 2, 4, and one train adds for the trained model at step 5.
        Assert.Equal([0, 2, 4, 5], PageFrames(File.ReadAllText(paths.Training)).Select(f => f.GetProperty("step").GetInt32()));
        Assert.All(Directory.GetFiles(SnapshotMap.FramesDirectory(paths.Training)), f => XDocument.Load(f));
    }

    [Theory]
    [InlineData("a", "vowel")]
    [InlineData("E", "vowel")]
    [InlineData("y", "consonant")]
    [InlineData("<BOS>", "BOS")]
    [InlineData("-", "other")]
    [InlineData("ab", "other")]
    public void LetterGroups_Of_NamesTheGroup(string key, string group) => Assert.Equal(group, LetterGroups.Of(key));

    static int CharTokenizerSize(string run) => TokenSpace.Tokenization.CharTokenizer.Load(Path.Combine(run, Checkpoint.TokenizerFile)).VocabSize;

    /// <summary>A GloVe-like text file of <paramref name="n"/> random 3-D rows keyed w0, w1, ….</summary>
    string RandomVectors(int n)
    {
        var random = new Random(7);
        return Vectors(string.Concat(Enumerable.Range(0, n).Select(i =>
            $"w{i} {random.NextDouble():F4} {random.NextDouble():F4} {random.NextDouble():F4}\n")));
    }

    [Theory]
    [InlineData(100, new string[0], true)]
    [InlineData(101, new string[0], false)]
    [InlineData(101, new[] { "--labels" }, true)]
    [InlineData(20, new[] { "--labels", "false" }, false)]
    public void Map_PointCount_LabelledByDefaultUpToAHundred(int n, string[] extra, bool labelled)
    {
        string output = Path.Combine(dir, "m.svg");
        Assert.Equal(0, Run(["map", "--vectors", RandomVectors(n), "--top", n.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra, "--out", output]));
        Assert.Equal(labelled, Marks(XDocument.Load(output), "text", "label").Length > 0);
    }

    [Theory]
    [InlineData("pca", @"^PC1 \d+\.\d %$", @"^PC2 \d+\.\d %$")]
    [InlineData("tsne", "^t-SNE 1$", "^t-SNE 2$")]
    public void Map_Method_AxesNamed(string method, string x, string y)
    {
        string output = Path.Combine(dir, "m.svg");
        Assert.Equal(0, Run("map", "--vectors", RandomVectors(12), "--method", method, "--iterations", "250", "--out", output));
        var svg = XDocument.Load(output);
        Assert.Matches(x, Marks(svg, "text", "x-axis").Single().Value);
        Assert.Matches(y, Marks(svg, "text", "y-axis").Single().Value);
    }

    [Fact]
    public void Map_Pca_AxisShareIsTheExplainedVariance()
    {
        string output = Path.Combine(dir, "m.svg");
        string path = RandomVectors(30);
        Assert.Equal(0, Run("map", "--vectors", path, "--out", output));
        using var kv = VectorsFile.Load(path);
        var pca = TokenSpace.Projection.Pca.Fit(kv.Vectors, kv.Count, kv.Dimensions, 2);
        Assert.Equal(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"PC1 {100 * pca.ExplainedVarianceRatio[0]:0.0} %"), Marks(XDocument.Load(output), "text", "x-axis").Single().Value);
    }

    [Fact]
    public void Map_SnapshotsOfATrainingRun_PageCarriesEachSnapshotsLoss()
    {
        string run = TrainRun();
        string page = Path.Combine(dir, "training.html");
        Assert.Equal(0, Run("map", "--snapshots", run, "--out", page));
        var frames = PageFrames(File.ReadAllText(page));
        var saved = Snapshots.List(run).Select(s => s.LoadTrainLoss()).ToArray();
        Assert.Null(saved[0]);
        Assert.All(saved.Skip(1), l => Assert.NotNull(l));
        Assert.Equal(saved, frames.Select(f => f.GetProperty("loss").ValueKind == JsonValueKind.Null ? (double?)null : f.GetProperty("loss").GetDouble()));
    }
}
