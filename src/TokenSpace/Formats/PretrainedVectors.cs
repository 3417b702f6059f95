using TokenSpace.IO;

namespace TokenSpace.Formats;

/// <summary>
/// Pretrained vectors by name (<c>--vectors glove-100d</c>): the <see cref="DataCache"/> set of that
/// name, converted once to the native format, then loaded from there by memory mapping.
/// </summary>
public static class PretrainedVectors
{
    /// <summary>name of a data set → the format of its file.</summary>
    static readonly Dictionary<string, VectorFormat> Sets = new()
    {
        ["glove-100d"] = VectorFormat.WinkJson,
    };

    /// <summary>The names that can be fetched.</summary>
    public static IEnumerable<string> Names => Sets.Keys;

    /// <summary>Where the native file of <paramref name="name"/> lives once converted.</summary>
    public static string CachedPath(string name) => Path.Combine(DataCache.Root, name, name + ".tsvec");

    /// <summary>The native file of <paramref name="name"/> when it is a known set already converted; otherwise null.</summary>
    public static string? Resolve(string name) =>
        Sets.ContainsKey(name) && File.Exists(CachedPath(name)) ? CachedPath(name) : null;

    /// <summary>
    /// Fetches the data set <paramref name="name"/> into the cache unless it is there (imported with
    /// <see cref="DataCache.Add"/>, say) and converts it to the native format, each step once; returns
    /// the native file's path.
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    /// <exception cref="InvalidOperationException">The fetch failed or the checksum differs.</exception>
    public static string Fetch(string name, Action<double>? progress = null)
    {
        if (!Sets.TryGetValue(name, out var format)) throw new ArgumentException($"unknown pretrained vectors '{name}'; known: " +
            $"{string.Join(", ", Sets.Keys)}");
        string target = CachedPath(name);
        if (File.Exists(target)) return target;
        string source = DataCache.Fetch(DataCache.Find(name)!);
        using var vectors = VectorsFile.Load(source, format, new VectorsLoadOptions { Progress = progress });
        NativeVectors.Write(vectors, target);
        return target;
    }
}
