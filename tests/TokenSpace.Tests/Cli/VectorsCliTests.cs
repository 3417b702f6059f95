using System.Reflection;
using System.Text.Json;
using Spectre.Console;
using TokenSpace.Formats;
using TokenSpace.Tests.Vectors;

namespace TokenSpace.Tests.Cli;

/// <summary>The vectors verbs end to end: the JSON shapes of the issue, exit codes and one-line errors.</summary>
[Collection(ProcessWideState.Name)]
public class VectorsCliTests
{
    static readonly Lock Gate = new();

    /// <summary>Runs the CLI's entry point in-process with stdout and stderr captured.</summary>
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var entry = Assembly.Load("TokenSpace.Cli").EntryPoint!;
        lock (Gate)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            using var output = new StringWriter();
            using var error = new StringWriter();
            // AnsiConsole keeps the writer it was created with: give it ours, and afterwards a fresh one on
            // the restored console (else a later test's tables go to this closed writer).
            try
            {
                Console.SetOut(output);
                Console.SetError(error);
                AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
                int code = (int)entry.Invoke(null, [args])!;
                return (code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
                AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings());
            }
        }
    }

    static JsonElement Json(params string[] args)
    {
        var (code, output, error) = Run([.. args, "--json"]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    static readonly string Small = VectorsGolden.Path("small.txt");

    [Fact]
    public void Neighbors_Json_ResultsPerQuery()
    {
        var root = Json("neighbors", "--vectors", Small, "paris", "big", "--top", "5");
        var results = root.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        Assert.Equal("paris", results[0].GetProperty("query").GetString());
        var expected = VectorsGolden.Expected.GetProperty("most_similar")[0].GetProperty("result");
        var neighbors = results[0].GetProperty("neighbors");
        Assert.Equal(5, neighbors.GetArrayLength());
        Assert.Equal(expected[0][0].GetString(), neighbors[0].GetProperty("key").GetString());
        Assert.Equal(expected[0][1].GetDouble(), neighbors[0].GetProperty("similarity").GetDouble(), 1e-5);
    }

    [Fact]
    public void EvaluateAnalogies_Json_GensimCounts()
    {
        var root = Json("evaluate", "analogies", "--vectors", Small, "--dataset", VectorsGolden.Path("questions.txt"));
        var expected = VectorsGolden.Expected.GetProperty("analogies").GetProperty("default");
        var total = expected.GetProperty("sections")[3];
        Assert.Equal(expected.GetProperty("accuracy").GetDouble(), root.GetProperty("accuracy").GetDouble(), 1e-12);
        Assert.Equal(total.GetProperty("correct").GetInt32(), root.GetProperty("correct").GetInt32());
        Assert.Equal(total.GetProperty("incorrect").GetInt32(), root.GetProperty("incorrect").GetInt32());
        Assert.Equal(1, root.GetProperty("skipped").GetInt32());
        Assert.Equal("capital-world", root.GetProperty("sections")[0].GetProperty("section").GetString());
        Assert.Equal(3, root.GetProperty("sections").GetArrayLength());
    }

    [Fact]
    public void EvaluatePairs_Json_Shape()
    {
        var root = Json("evaluate", "pairs", "--vectors", Small, "--dataset", VectorsGolden.Path("pairs.tsv"));
        var expected = VectorsGolden.Expected.GetProperty("pairs").GetProperty("default");
        Assert.Equal(expected.GetProperty("pearson").GetDouble(), root.GetProperty("pearson").GetDouble(), 1e-6);
        Assert.Equal(expected.GetProperty("spearman").GetDouble(), root.GetProperty("spearman").GetDouble(), 1e-6);
        Assert.Equal(expected.GetProperty("oov_ratio").GetDouble(), root.GetProperty("oov_ratio").GetDouble(), 1e-9);
        Assert.Equal(61, root.GetProperty("pairs").GetInt32());
    }

    [Fact]
    public void Inspect_Json_FormatShapeDtype()
    {
        var root = Json("inspect", "--vectors", VectorsGolden.Path("small.bin"));
        Assert.Equal("word2vec-bin", root.GetProperty("format").GetString());
        Assert.Equal(249, root.GetProperty("count").GetInt32());
        Assert.Equal(16, root.GetProperty("dimensions").GetInt32());
        Assert.Equal("float32", root.GetProperty("dtype").GetString());
    }

    [Fact]
    public void AnalogyAndDistance_Json_Values()
    {
        var analogy = Json("analogy", "--vectors", Small, "germany", "berlin", "italy");
        var expected = VectorsGolden.Expected.GetProperty("most_similar")[1].GetProperty("result");
        Assert.Equal(expected[0][0].GetString(), analogy.GetProperty("answer").GetString());
        var distance = Json("distance", "--vectors", Small, "paris", "france", "--metric", "euclidean");
        Assert.Equal(VectorsGolden.Expected.GetProperty("euclidean")[0][2].GetDouble(), distance.GetProperty("distance").GetDouble(), 1e-5);
        var similarity = Json("similarity", "--vectors", Small, "paris", "france");
        Assert.Equal(VectorsGolden.Expected.GetProperty("similarity")[0][2].GetDouble(), similarity.GetProperty("similarity").GetDouble(), 1e-6);
    }

    [Fact]
    public void Convert_ToNative_Loads()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tokenspace-{Guid.NewGuid():N}.tsvec");
        try
        {
            var root = Json("convert", "--vectors", VectorsGolden.Path("small.bin"), "--out", path);
            Assert.Equal("native", root.GetProperty("format").GetString());
            using var kv = VectorsFile.Load(path);
            Assert.Equal(249, kv.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Neighbors_UnknownWord_OneLineErrorAndExit1()
    {
        var (code, output, error) = Run("neighbors", "--vectors", Small, "pariss");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: key 'pariss' is not in the vocabulary", error);
    }

    [Fact]
    public void Neighbors_MalformedFile_NamesFileAndLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tokenspace-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "2 2\na 1 2\nb 3\n");
        try
        {
            var (code, _, error) = Run("neighbors", "--vectors", path, "a");
            Assert.Equal(1, code);
            Assert.StartsWith($"error: {path}:3: expected 2 values after the key, found 1", error);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
