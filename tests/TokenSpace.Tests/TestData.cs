namespace TokenSpace.Tests;

/// <summary>Where tests find their inputs: the shared datasets beside the checkout, and the committed golden files.</summary>
static class TestData
{
    /// <summary>The repository root (the folder holding TokenSpace.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary><c>../shared/data</c> beside the checkout, or null when it is absent.</summary>
    public static string? SharedDir
    {
        get
        {
            string dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
            return Directory.Exists(dir) ? dir : null;
        }
    }

    /// <summary>The path of a shared dataset; skips the calling test with the reason when it is absent.</summary>
    public static string Shared(string name)
    {
        string? dir = SharedDir;
        string path = dir is null ? "" : Path.Combine(dir, name);
        Assert.SkipWhen(dir is null || !File.Exists(path), $"../shared/data/{name} is not beside the checkout");
        return path;
    }

    /// <summary>A golden file written by a script in tools/reference/.</summary>
    public static string Golden(string name) => Path.Combine(RepoRoot, "tools", "reference", "golden", name);

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TokenSpace.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("TokenSpace.sln not found above " + AppContext.BaseDirectory);
    }
}
