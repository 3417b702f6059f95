using System.Text.Json;
using TokenSpace.Cli;
using TokenSpace.Cli.Commands;
using TokenSpace.Formats;
using TokenSpace.Tests.Vectors;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Cli;

/// <summary>What a user of command-line tools expects: the program's name, "did you mean", JSON errors, lists, extensions, visible keys.</summary>
[Collection(ProcessWideState.Name)]
public sealed class CliConventionsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-conventions").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly string Small = VectorsGolden.Path("small.txt");

    static (int Code, string Out, string Err) Run(params string[] args) => VectorsCliTests.Run(args);

    static string[] Lines(string text) => text.TrimEnd('\n', '\r').Split('\n');

    [Theory]
    [InlineData("--help")]
    [InlineData("neighbors", "--help")]
    [InlineData("data", "fetch", "--help")]
    public void Help_UsageLine_NamesTokenspace(params string[] args)
    {
        var (code, output, _) = Run(args);
        Assert.Equal(0, code);
        string usage = Lines(output).SkipWhile(l => l != "Usage:").Skip(1).First();
        Assert.StartsWith("  tokenspace", usage);
        Assert.Equal(string.Join(' ', args[..^1].Prepend("  tokenspace")), string.Join(' ', usage.Split(' ').TakeWhile(w => !w.StartsWith('[') && !w.StartsWith('<'))));
    }

    [Fact]
    public void Help_Threads_NoMachineDefault()
    {
        string line = Lines(Run("--help").Out).Single(l => l.TrimStart().StartsWith("--threads", StringComparison.Ordinal));
        Assert.EndsWith("(default: all cores)", line);
        Assert.DoesNotContain("[default:", line);
    }

    [Theory]
    [InlineData("trian", "error: unknown verb 'trian'; did you mean 'train'?", "hint: see `tokenspace --help`")]
    [InlineData("neighbours", "error: unknown verb 'neighbours'; did you mean 'neighbors'?", "hint: see `tokenspace --help`")]
    [InlineData("data fetsh", "error: unknown verb 'fetsh'; did you mean 'fetch'?", "hint: see `tokenspace data --help`")]
    [InlineData("map --tpo 3", "error: unknown option '--tpo' for `tokenspace map`; did you mean '--top'?", "hint: see `tokenspace map --help`")]
    [InlineData("neighbors --jsno", "error: unknown option '--jsno' for `tokenspace neighbors`; did you mean '--json'?", "hint: see `tokenspace neighbors --help`")]
    [InlineData("xyzzy", "error: unknown verb 'xyzzy'", "hint: see `tokenspace --help`")]
    public void Parse_UnknownVerbOrOption_SuggestsNearestExitTwo(string line, string error, string hint)
    {
        var (code, output, err) = Run(line.Split(' '));
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal([error, hint], Lines(err));
    }

    [Fact]
    public void Parse_OptionLikeWordWhereWordsGo_UnknownOptionUnlessAfterDoubleDash()
    {
        var (code, _, err) = Run("neighbors", "--vectors", Small, "--bogus", "paris");
        Assert.Equal(2, code);
        Assert.StartsWith("error: unknown option '--bogus' for `tokenspace neighbors`", err);
        // After --, it is a word: here an unknown key, answered per query.
        (code, _, err) = Run("neighbors", "--vectors", Small, "--", "--bogus");
        Assert.Equal(1, code);
        Assert.StartsWith("error: key '--bogus' is not in the vocabulary", err);
    }

    [Fact]
    public void Json_ParseError_OneObjectOnStdoutSameExitCode()
    {
        var (code, output, err) = Run("trian", "--json");
        Assert.Equal(2, code);
        // The person still reads the line on stderr; a program reads the object on stdout.
        Assert.Equal(["error: unknown verb 'trian'; did you mean 'train'?", "hint: see `tokenspace --help`"], Lines(err));
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("unknown verb 'trian'; did you mean 'train'?", root.GetProperty("error").GetString());
        Assert.Equal("see `tokenspace --help`", root.GetProperty("hint").GetString());
    }

    [Fact]
    public void Json_FileFormatError_ObjectWithFileAndLine()
    {
        string path = Path.Combine(dir, "bad.txt");
        File.WriteAllText(path, "2 2\na 1 2\nb 3\n");
        var (plainCode, _, plain) = Run("neighbors", "--vectors", path, "a");
        var (code, output, err) = Run("neighbors", "--vectors", path, "a", "--json");
        Assert.Equal(1, plainCode);
        Assert.Equal(plainCode, code);
        Assert.Equal(plain, err);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal(Lines(plain)[0], "error: " + root.GetProperty("error").GetString());
        Assert.Equal(path, root.GetProperty("file").GetString());
        Assert.Equal(3, root.GetProperty("line").GetInt64());
        Assert.False(root.TryGetProperty("offset", out _));
    }

    [Fact]
    public void Json_BinaryFormatError_ObjectWithOffset()
    {
        string path = Path.Combine(dir, "bad.npy");
        File.WriteAllBytes(path, [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 9, 0, 0, 0, 0]);
        var root = JsonDocument.Parse(Run("inspect", "--vectors", path, "--json").Out).RootElement;
        Assert.Equal(path, root.GetProperty("file").GetString());
        Assert.Equal(6, root.GetProperty("offset").GetInt64());
    }

    [Fact]
    public void MissingDataSet_HintsFetchAndAdd_NotPath()
    {
        string empty = Path.Combine(dir, "empty-cache");
        string? saved = Environment.GetEnvironmentVariable("TOKENSPACE_CACHE");
        Environment.SetEnvironmentVariable("TOKENSPACE_CACHE", empty);
        try
        {
            var (code, _, err) = Run("evaluate", "analogies", "--vectors", Small, "--dataset", "questions-words");
            Assert.Equal(1, code);
            var lines = Lines(err);
            Assert.Equal(2, lines.Length);
            Assert.Equal("hint: `tokenspace data fetch questions-words` downloads it (sha256-checked); "
                + "`tokenspace data add questions-words FILE` imports a copy you already have", lines[1]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TOKENSPACE_CACHE", saved);
        }
        // A path that does not exist still gets the path hint.
        Assert.Equal("hint: check the path; relative paths are resolved from the current directory",
            Lines(Run("neighbors", "--vectors", Path.Combine(dir, "nothing.txt"), "a").Err)[1]);
    }

    [Fact]
    public void Neighbors_OneUnknownWord_OthersAnsweredExitOne()
    {
        var (code, output, err) = Run("neighbors", "--vectors", Small, "--words", "paris,qwzx,big", "--top", "3", "--json");
        Assert.Equal(1, code);
        Assert.Equal("", err); // the error is in the document, next to the answers
        var results = JsonDocument.Parse(output).RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["paris", "qwzx", "big"], results.Select(r => r.GetProperty("query").GetString()));
        Assert.Equal(3, results[0].GetProperty("neighbors").GetArrayLength());
        Assert.StartsWith("key 'qwzx' is not in the vocabulary", results[1].GetProperty("error").GetString());
        Assert.False(results[1].TryGetProperty("neighbors", out _));
        Assert.Equal(3, results[2].GetProperty("neighbors").GetArrayLength());

        (code, output, err) = Run("neighbors", "--vectors", Small, "paris", "qwzx", "--top", "3");
        Assert.Equal(1, code);
        Assert.Contains("paris", output);
        Assert.StartsWith("error: key 'qwzx' is not in the vocabulary", Assert.Single(Lines(err)));
    }

    [Fact]
    public void Neighbors_AllKnown_ExitZero() =>
        Assert.Equal(0, Run("neighbors", "--vectors", Small, "--words", "paris, big", "--json").Code);

    [Fact]
    public void SplitList_SpacesAroundItems_TrimmedUnlessTheExactKeyExists()
    {
        using var kv = new KeyedVectors([" king", "king", "queen"], [1, 0, 0, 1, 1, 1], 2);
        Assert.Equal(["king", "queen"], KeyText.SplitList("king, queen", kv));
        Assert.Equal([" king", "queen"], KeyText.SplitList(" king,  queen ,", kv));
        Assert.Equal(["qwzx"], KeyText.SplitList(" qwzx ", kv));
        Assert.Equal([1.5, -2], CommaList.Numbers("1.5, -2", "--vector"));
        Assert.Equal("--vector: 'x' is not a finite number", Assert.Throws<ArgumentException>(() => CommaList.Numbers("1, x", "--vector")).Message);
        Assert.Throws<ArgumentException>(() => CommaList.Numbers("1,,2", "--vector"));
    }

    [Theory]
    [InlineData("heatmap")]
    [InlineData("map")]
    [InlineData("n-similarity")]
    public void Verbs_SpacedCommaList_Trimmed(string verb)
    {
        string[] args = verb switch
        {
            "heatmap" => ["heatmap", "--vectors", Small, "--words", "paris, big ,france", "--out", Path.Combine(dir, "h.svg"), "--json"],
            "map" => ["map", "--vectors", Small, "--words", "paris, big ,france", "--out", Path.Combine(dir, "m.svg"), "--json"],
            _ => ["n-similarity", "--vectors", Small, "--first", "paris, france", "--second", " big", "--json"],
        };
        var (code, _, err) = Run(args);
        Assert.True(code == 0, err);
    }

    [Theory]
    [InlineData("map", "u.png", "error: --out u.png: this writes an SVG map (with --snapshots: an .html page); give a file name ending in .svg")]
    [InlineData("map", "u.html", "error: --out u.html: this writes an SVG map (with --snapshots: an .html page); give a file name ending in .svg")]
    [InlineData("heatmap", "h.json", "error: --out h.json: this writes an SVG heatmap; give a file name ending in .svg")]
    [InlineData("heatmap", "h.csv", "error: --out h.csv: this writes an SVG heatmap; give a file name ending in .svg")]
    public void Output_WrongExtension_RefusedNamingExpected(string verb, string name, string expected)
    {
        string path = Path.Combine(dir, name);
        var (code, _, err) = Run(verb, "--vectors", Small, "--words", "paris,big,france", "--out", path);
        Assert.Equal(1, code);
        Assert.Equal(expected.Replace(name, path), Lines(err)[0]);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Output_SnapshotsPageNotHtml_Refused()
    {
        var (code, _, err) = Run("map", "--snapshots", dir, "--out", Path.Combine(dir, "t.svg"));
        Assert.Equal(1, code);
        Assert.EndsWith("give a file name ending in .html", Lines(err)[0]);
        var (chartCode, _, chartErr) = Run("evaluate", "formation", "--snapshots", dir, "--out", Path.Combine(dir, "f.png"));
        Assert.Equal(1, chartCode);
        Assert.EndsWith("this writes an SVG line chart; give a file name ending in .svg", Lines(chartErr)[0]);
    }

    [Theory]
    [InlineData("npy")]
    [InlineData("safetensors")]
    public void Convert_NpyAndSafetensors_WrittenAndReadBack(string format)
    {
        string path = Path.Combine(dir, "v." + format);
        var (code, _, err) = Run("convert", "--vectors", Small, "--out", path);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(dir, "v.keys.txt")));
        var direct = JsonDocument.Parse(Run("neighbors", "--vectors", Small, "paris", "--json").Out).RootElement.GetRawText();
        var back = JsonDocument.Parse(Run("neighbors", "--vectors", path, "paris", "--json").Out).RootElement.GetRawText();
        Assert.Equal(direct, back);
    }

    [Fact]
    public void Convert_Help_ListsOnlyWritableFormats()
    {
        string to = Lines(Run("convert", "--help").Out).Single(l => l.TrimStart().StartsWith("--to", StringComparison.Ordinal));
        Assert.Contains("npy", to);
        Assert.Contains("safetensors", to);
        Assert.DoesNotContain("wink-json", to);
        string from = Lines(Run("convert", "--help").Out).Single(l => l.TrimStart().StartsWith("--format", StringComparison.Ordinal));
        Assert.DoesNotContain("projector", from);
    }

    [Fact]
    public void Neighbors_WhitespaceKeys_VisibleInTableExactInJson()
    {
        string path = Path.Combine(dir, "ws.tsvec");
        using (var kv = new KeyedVectors([" ", "\n", "\t", "\r", " king", "a"], [1, 0, 0.99f, 0.1f, 0.98f, 0.2f, 0.97f, 0.3f, 0.96f, 0.4f, 0, 1], 2))
            VectorsFile.Save(kv, path, VectorFormat.Native);
        var (code, output, err) = Run("neighbors", "--vectors", path, "a", "--top", "5");
        Assert.True(code == 0, err);
        foreach (string shown in new[] { "␣", "↵", "⇥", "\\u{d}", "␣king" }) Assert.Contains($"│ {shown} ", output);
        var json = JsonDocument.Parse(Run("neighbors", "--vectors", path, "a", "--top", "5", "--json").Out).RootElement;
        var keys = json.GetProperty("results")[0].GetProperty("neighbors").EnumerateArray().Select(n => n.GetProperty("key").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { " ", "\n", "\t", "\r", " king" }, keys);
    }

    [Fact]
    public void KeyText_Invisible_MadeVisible()
    {
        Assert.Equal("␣king", KeyText.Visible(" king"));
        Assert.Equal("a↵b⇥c", KeyText.Visible("a\nb\tc"));
        Assert.Equal("\\u{0}\\u{d}\\u{200b}\\u{a0}", KeyText.Visible("\0\r\u200b\u00a0"));
        Assert.Equal("königin 王", KeyText.Visible("königin 王").Replace("␣", " "));
        Assert.Same("plain", KeyText.Visible("plain"));
    }

    [Fact]
    public void StepRate_OneSlowInterval_EtaMovesLessThanLastIntervalRate()
    {
        var rate = new StepRate();
        Assert.Equal(0, rate.Remaining(100));
        rate.Add(10, 1.0);
        Assert.Equal(0.1, rate.SecondsPerStep, 12); // bias-corrected: the first interval is the rate, not 30 % of it
        for (int i = 0; i < 19; i++) rate.Add(10, 1.0);
        Assert.Equal(0.1, rate.SecondsPerStep, 12);
        rate.Add(10, 10.0); // an evaluation inside the interval: ten times slower
        // tqdm's EMA: 0.3 of the new rate, 0.7 of the old, over the weights given (1 - 0.7^21).
        double weight = 1 - Math.Pow(0.7, 21);
        Assert.Equal((0.3 * 1.0 + 0.7 * 0.1 * (1 - Math.Pow(0.7, 20))) / weight, rate.SecondsPerStep, 12);
        Assert.InRange(rate.SecondsPerStep, 0.36, 0.38); // the last interval alone says 1.0
        Assert.Equal(rate.SecondsPerStep * 50, rate.Remaining(50), 12);
        double before = rate.SecondsPerStep;
        rate.Add(0, 5.0); // no steps: ignored
        Assert.Equal(before, rate.SecondsPerStep);
    }
}
