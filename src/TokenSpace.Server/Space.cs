using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Server;

/// <summary>One embedding space the explorer serves, loaded once at start; requests name it by <see cref="Name"/>, never by a
/// path.</summary>
/// <param name="Name">The name requests use (<c>space=</c>).</param>
/// <param name="Source">What <c>--vectors</c> said: a dataset name, a file or a checkpoint directory.</param>
/// <param name="Vectors">The loaded vectors.</param>
/// <param name="RunDirectory">The training run's directory when the source is a checkpoint directory (its <c>snapshots/</c> feed the
/// timeline).</param>
public sealed record Space(string Name, string Source, KeyedVectors Vectors, string? RunDirectory = null);

/// <summary>What <c>tokenspace serve</c> serves and where.</summary>
public sealed record ExplorerOptions
{
    /// <summary>The loaded spaces, at least one, names unique; the first is the default.</summary>
    public required IReadOnlyList<Space> Spaces { get; init; }

    /// <summary>Per-key metadata (<c>--metadata TSV</c>) shared by every space, or null.</summary>
    public KeyMetadata? Metadata { get; init; }

    /// <summary>The address to listen on: an IP address or <c>localhost</c>; anything but loopback is reachable from the network.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>The folder of the page's static files.</summary>
    public string WebRoot { get; init; } = Path.Combine(AppContext.BaseDirectory, "wwwroot");
}
