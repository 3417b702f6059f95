using System.Text.Json;
using TokenSpace.Tests.Vectors;

namespace TokenSpace.Tests.Cli;

/// <summary><c>index build</c> and <c>neighbors --approx</c> end to end.</summary>
[Collection(ProcessWideState.Name)]
public sealed class IndexCliTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-index-cli").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Copy()
    {
        string path = Path.Combine(dir, "small.txt");
        File.Copy(VectorsGolden.Path("small.txt"), path, overwrite: true);
        return path;
    }

    [Fact]
    public void IndexBuild_ThenNeighborsApprox_SameAnswerAsExact()
    {
        string vectors = Copy();
        var (code, output, error) = VectorsCliTests.Run("index", "build", "--vectors", vectors, "--connectivity", "8", "--json");
        Assert.True(code == 0, error);
        var built = JsonDocument.Parse(output).RootElement;
        Assert.Equal(vectors + ".ann", built.GetProperty("path").GetString());
        Assert.Equal(249, built.GetProperty("rows").GetInt32());
        Assert.True(File.Exists(vectors + ".ann"));

        // 249 rows and a wide search: the graph walk reaches every row, so the answer is the exact one.
        var exact = VectorsCliTests.Run("neighbors", "--vectors", vectors, "paris", "big", "--top", "5", "--json");
        var approx = VectorsCliTests.Run("neighbors", "--vectors", vectors, "paris", "big", "--top", "5", "--approx", "--expansion", "300", "--json");
        Assert.True(approx.Code == 0, approx.Err);
        Assert.Equal(exact.Out, approx.Out);
    }

    [Fact]
    public void NeighborsApprox_NoIndex_OneLineSayingHowToBuildIt()
    {
        string vectors = Copy();
        var (code, _, error) = VectorsCliTests.Run("neighbors", "--vectors", vectors, "paris", "--approx");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: no index at {vectors}.ann; build it with `tokenspace index build`", error);
    }

    [Fact]
    public void NeighborsApprox_IndexOfOtherVectors_Refused()
    {
        string vectors = Copy();
        Assert.Equal(0, VectorsCliTests.Run("index", "build", "--vectors", vectors).Code);
        var (code, _, error) = VectorsCliTests.Run("neighbors", "--vectors", vectors, "--limit", "100", "paris", "--approx");
        Assert.Equal(1, code);
        Assert.Contains("built for 249 × 16 vectors, these are 100 × 16", error);
    }

    [Theory]
    [InlineData("--dtype", "f8", "--dtype must be f32, f16 or i8, got 'f8'")]
    [InlineData("--connectivity", "1", "--connectivity must be at least 2, got 1")]
    [InlineData("--expansion-add", "0", "--expansion-add must be at least 1, got 0")]
    public void IndexBuild_BadOption_OneLineError(string option, string value, string message)
    {
        var (code, _, error) = VectorsCliTests.Run("index", "build", "--vectors", Copy(), option, value);
        Assert.Equal(1, code);
        Assert.Equal($"error: {message}", error.Trim());
    }

    [Fact]
    public void Neighbors_ExpansionWithoutApprox_OneLineError()
    {
        var (code, _, error) = VectorsCliTests.Run("neighbors", "--vectors", Copy(), "paris", "--expansion", "10");
        Assert.Equal(1, code);
        Assert.Contains("add --approx", error);
    }
}
