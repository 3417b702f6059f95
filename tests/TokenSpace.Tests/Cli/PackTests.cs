using TokenSpace.Tests.Docs;
using TokenSpace.Tests.Vectors;

namespace TokenSpace.Tests.Cli;

/// <summary>The README's install lines: the CLI packs as a .NET tool whose command is <c>tokenspace</c>.</summary>
public sealed class PackTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-pack").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Pack_InstalledAsATool_AnswersAsTokenspaceAndCarriesTheExplorerPage()
    {
        // Pack what this test run built (its configuration, no second build), install it into a folder of its own.
        string configuration = Directory.GetParent(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!.Name;
        string project = Path.Combine(TestData.RepoRoot, "src", "TokenSpace.Cli");
        var (exit, stdout, stderr) = ReadmeCommandsTests.Bash("",
            $"dotnet pack '{project}' -c {configuration} --no-build -o package >&2 && " +
            "dotnet tool install --tool-path tool --add-source package TokenSpace.Cli >&2 && " +
            $"tool/tokenspace --help && tool/tokenspace similarity --vectors '{VectorsGolden.Path("small.txt")}' paris france --json",
            dir);
        Assert.True(exit == 0, stderr);
        Assert.Contains("Usage:\n  tokenspace [command] [options]", stdout);
        Assert.Matches(@"""similarity"":\s*0\.\d+", stdout);
        string page = Assert.Single(Directory.EnumerateFiles(Path.Combine(dir, "tool"), "index.html", SearchOption.AllDirectories));
        Assert.Equal("wwwroot", Path.GetFileName(Path.GetDirectoryName(page)));
    }
}
