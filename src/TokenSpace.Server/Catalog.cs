using TokenSpace.Formats;

namespace TokenSpace.Server;

/// <summary>The spaces loaded at start, by name: the only ones a request can reach.</summary>
sealed class Catalog : IDisposable
{
    readonly Dictionary<string, Space> byName;
    readonly Dictionary<string, NeighborBatcher> batchers = [];

    public Catalog(ExplorerOptions options)
    {
        if (options.Spaces.Count == 0) throw new ArgumentException("the explorer needs at least one space");
        byName = new Dictionary<string, Space>(StringComparer.Ordinal);
        foreach (var space in options.Spaces)
        {
            if (!byName.TryAdd(space.Name, space)) throw new ArgumentException($"two spaces are named '{space.Name}'");
            batchers[space.Name] = new NeighborBatcher(space.Vectors);
        }
        All = options.Spaces;
        Metadata = options.Metadata;
    }

    /// <summary>Every space, in the order given at start.</summary>
    public IReadOnlyList<Space> All { get; }

    /// <summary>The <c>--metadata</c> TSV, or null.</summary>
    public KeyMetadata? Metadata { get; }

    /// <summary>The space named <paramref name="name"/>; the first one when the parameter is absent.</summary>
    /// <exception cref="ApiException">404: no space has that name.</exception>
    public Space Get(string? name)
    {
        if (name is null) return All[0];
        if (byName.TryGetValue(name, out var space)) return space;
        string known = string.Join(", ", All.Take(10).Select(s => s.Name));
        throw new ApiException("space", $"no space is named '{(name.Length <= 40 ? name : name[..40] + "…")}'; loaded: {known}",
            StatusCodes.Status404NotFound);
    }

    /// <summary>The cosine neighbour queries of <paramref name="space"/>, batched.</summary>
    public NeighborBatcher Neighbors(Space space) => batchers[space.Name];

    /// <summary>The row of <paramref name="key"/> in <paramref name="space"/>.</summary>
    /// <exception cref="ApiException">404 naming <paramref name="parameter"/>, with close spellings.</exception>
    public static int Row(Space space, string key, string parameter)
    {
        int row = space.Vectors.TryGetIndex(key);
        if (row >= 0) return row;
        var close = space.Vectors.SuggestKeys(key);
        string hint = close.Count == 0 ? "" : $"; did you mean {string.Join(", ", close.Select(k => $"'{k}'"))}?";
        throw new ApiException(parameter, $"{parameter}: '{key}' is not in the {space.Vectors.Count:N0} keys of {space.Name}{hint}",
            StatusCodes.Status404NotFound)
        {
            Suggestions = close,
        };
    }

    public void Dispose()
    {
        foreach (var batcher in batchers.Values) batcher.Dispose();
    }
}
