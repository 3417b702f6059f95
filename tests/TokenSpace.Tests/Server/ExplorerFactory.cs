using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;
using TokenSpace.Formats;
using TokenSpace.Server;
using TokenSpace.Tests.Vectors;

namespace TokenSpace.Tests.Server;

/// <summary>
/// The explorer in-process (Microsoft.AspNetCore.Mvc.Testing): the real host with an in-memory server instead of
/// Kestrel. The CLI's entry point only anchors the factory (it wants an application assembly); the host comes from
/// <see cref="Explorer.CreateHostBuilder"/>, never from running the CLI.
/// </summary>
sealed class ExplorerFactory(ExplorerOptions options) : WebApplicationFactory<Program>
{
    public ExplorerOptions Options { get; } = options;

    protected override IHostBuilder CreateHostBuilder() => Explorer.CreateHostBuilder(Options);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            foreach (var space in Options.Spaces) space.Vectors.Dispose();
        }
    }
}

/// <summary>
/// The small golden set (<c>small</c>, 249 keys × 16) and a random one (<c>random</c>, 20,001 × 16: one
/// more than t-SNE maps, and t-SNE runs long enough to cancel), with a metadata TSV for a few keys.
/// </summary>
public sealed class SmallExplorer : IDisposable
{
    public static readonly string SmallPath = VectorsGolden.Path("small.txt");

    readonly ExplorerFactory factory = new(new ExplorerOptions
    {
        Spaces =
        [
            new Space("small", SmallPath, VectorsFile.Load(SmallPath)),
            new Space("random", "random", VectorsGolden.Random(Projections.MaxTsnePoints + 1, 16, seed: 1)),
        ],
        Metadata = WriteMetadata(),
    });

    internal ExplorerOptions Options => factory.Options;

    internal IServiceProvider Services => factory.Services;

    public HttpClient CreateClient() => factory.CreateClient();

    public void Dispose() => factory.Dispose();

    static KeyMetadata WriteMetadata()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tokenspace-meta-{Guid.NewGuid():N}.tsv");
        File.WriteAllText(path, "key\tkind\nparis\tcity\nfrance\tcountry\n");
        try
        {
            return KeyMetadata.Read(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
