using System.CommandLine;
using System.Xml.Linq;
using TokenSpace.Cli;
using TokenSpace.Cli.Commands;
using TokenSpace.Formats;

namespace TokenSpace.Tests.Cli;

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
    public void Load_MissingValue_ThrowsNamingFileAndLine()
    {
        string path = Vectors("a 1 2 3\nb 4 5 6\nc 7 8\n");
        var e = Assert.Throws<FileFormatException>(() => VectorSource.Load(path));
        Assert.Equal(3, e.Line);
        Assert.Contains("vectors.txt:3: expected 4 fields", e.Message);
    }

    [Fact]
    public void Load_ValueNotANumber_ThrowsNamingFileAndLine()
    {
        string path = Vectors("a 1 2\nb 4 x\n");
        var e = Assert.Throws<FileFormatException>(() => VectorSource.Load(path));
        Assert.Equal(2, e.Line);
        Assert.Contains("'x' is not a number", e.Message);
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
    public void Map_UnknownWord_ExitsWithOne()
    {
        string path = Vectors("a 1 0\nb 0 1\nc 1 1\n");
        int code = Run("map", "--vectors", path, "--words", "a,b,zzz", "--out", Path.Combine(dir, "m.svg"));
        Assert.Equal(1, code);
        Assert.False(File.Exists(Path.Combine(dir, "m.svg")));
    }

    [Fact]
    public void Heatmap_Positions_WritesOneCellPerPair()
    {
        string path = Vectors("0 1 0\n1 0.8 0.2\n2 0 1\n3 -1 0\n");
        string output = Path.Combine(dir, "heat.svg");

        int code = Run("heatmap", "--vectors", path, "--positions", "--limit", "3", "--out", output);

        Assert.Equal(0, code);
        XNamespace s = "http://www.w3.org/2000/svg";
        Assert.Equal(9, XDocument.Load(output).Descendants(s + "rect").Count(r => (string?)r.Attribute("class") == "cell"));
    }
}
