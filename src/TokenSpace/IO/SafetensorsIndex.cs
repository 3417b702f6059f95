using System.Text.Json;

namespace TokenSpace.IO;

/// <summary>
/// A sharded safetensors checkpoint, as Hugging Face saves large models: <c>model.safetensors.index.json</c>
/// (<c>{"metadata": {...}, "weight_map": {tensor: shard file}}</c>) beside shards such as
/// <c>model-00001-of-00002.safetensors</c>. Opening it reads the index and every shard's header (not the data)
/// and checks that they agree: every shard exists, holds the tensors the index gives it and no tensor the index
/// gives another, and the matrices of all shards share one dtype.
/// </summary>
public sealed class SafetensorsIndex
{
    /// <summary>The index file's name in a checkpoint folder.</summary>
    public const string FileName = "model.safetensors.index.json";

    readonly Dictionary<string, (string Shard, long Offset)> weightMap;
    readonly Dictionary<string, SafetensorsFile> shards;

    SafetensorsIndex(string path, Dictionary<string, (string, long)> weightMap, Dictionary<string, SafetensorsFile> shards)
    {
        Path = path;
        this.weightMap = weightMap;
        this.shards = shards;
    }

    /// <summary>
    /// Whether <paramref name="head"/>, a file's first bytes, starts like an index: a JSON object naming <c>"weight_map"</c>
    /// (a safetensors file itself starts with its 8-byte header length, never with '{').
    /// </summary>
    public static bool LooksLikeIndex(ReadOnlySpan<byte> head) =>
        head.TrimStart(" \t\r\n"u8).StartsWith("{"u8) && head.IndexOf("\"weight_map\""u8) >= 0;

    /// <summary>Whether the file at <paramref name="path"/> starts like an index (its first megabyte, see
    /// <see cref="LooksLikeIndex(ReadOnlySpan{byte})"/>).</summary>
    public static bool LooksLikeIndex(string path)
    {
        using var file = File.OpenHandle(path);
        var head = new byte[(int)Math.Min(RandomAccess.GetLength(file), 1 << 20)];
        return LooksLikeIndex(head.AsSpan(0, RandomAccess.Read(file, head, 0)));
    }

    /// <summary>The index file read.</summary>
    public string Path { get; }

    /// <summary>Every tensor name of the checkpoint, in the index's order.</summary>
    public IEnumerable<string> Names => weightMap.Keys;

    /// <summary>The shard that holds <paramref name="name"/> and its entry there, or null when the index does not list it.</summary>
    public (SafetensorsFile Shard, SafetensorsEntry Entry)? Find(string name)
    {
        if (!weightMap.TryGetValue(name, out var at)) return null;
        var shard = shards[at.Shard];
        return (shard, shard.Entries[name]);
    }

    /// <summary>Reads the index at <paramref name="path"/> and the header of every shard it names, checking that they agree.</summary>
    /// <exception cref="FileFormatException">
    /// The index is not JSON with a <c>weight_map</c> object of strings, names a missing shard or one that does not hold a tensor
    /// given to it, a shard holds a tensor the index gives another shard (a tensor split across shards), or shards disagree on the dtype.
    /// </exception>
    public static SafetensorsIndex Open(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var weightMap = ReadWeightMap(bytes, path);
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (var (name, (shard, offset)) in weightMap)
        {
            if (shards.ContainsKey(shard)) continue;
            if (shard.Length == 0 || shard != System.IO.Path.GetFileName(shard))
                throw new FileFormatException(path,
                    $"tensor '{name}' is given to shard '{shard}'; expected a file name in the index's folder", byteOffset: offset);
            string file = System.IO.Path.Combine(dir, shard);
            if (!File.Exists(file))
                throw new FileFormatException(path,
                    $"shard '{shard}' (named for tensor '{name}') does not exist beside the index; is the download incomplete?",
                    byteOffset: offset);
            shards[shard] = SafetensorsFile.Open(file);
        }
        foreach (var (name, (shard, offset)) in weightMap)
        {
            if (!shards[shard].Entries.ContainsKey(name))
                throw new FileFormatException(path, $"the index gives tensor '{name}' to shard '{shard}', which does not hold it",
                    byteOffset: offset);
        }
        string? dtype = null, dtypeShard = null;
        foreach (var (shard, file) in shards)
        {
            foreach (var entry in file.Entries.Values)
            {
                var (owner, offset) = weightMap.TryGetValue(entry.Name, out var at) ? at : (null, 0L);
                if (owner != shard)
                {
                    throw new FileFormatException(path, owner is null
                        ? $"shard '{shard}' holds tensor '{entry.Name}', which the index does not list"
                        : $"tensor '{entry.Name}' is in shard '{shard}' and in shard '{owner}' (where the index puts it): a tensor split " +
                            "across shards is not supported",
                        byteOffset: offset);
                }
                if (entry.Shape.Length != 2 || entry.DType is not ("F32" or "F16" or "BF16" or "F64")) continue;
                dtype ??= entry.DType;
                dtypeShard ??= shard;
                if (entry.DType != dtype)
                    throw new FileFormatException(path,
                        $"the shards disagree: '{dtypeShard}' holds {dtype} matrices, '{shard}' holds '{entry.Name}' as {entry.DType}",
                        byteOffset: offset);
            }
        }
        return new SafetensorsIndex(path, weightMap, shards);
    }

    /// <summary>The <c>weight_map</c> of the index: tensor → (shard, byte offset of the entry).</summary>
    static Dictionary<string, (string, long)> ReadWeightMap(byte[] bytes, string path)
    {
        var map = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 8 });
        bool found = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw Bad("expected a JSON object",
                reader.TokenStartIndex);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isMap = reader.ValueTextEquals("weight_map");
                reader.Read();
                if (!isMap)
                {
                    reader.Skip();
                    continue;
                }
                if (found) throw Bad("\"weight_map\" is listed twice", reader.TokenStartIndex);
                if (reader.TokenType != JsonTokenType.StartObject) throw Bad("\"weight_map\" must be an object {tensor: shard file}",
                    reader.TokenStartIndex);
                found = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    long at = reader.TokenStartIndex;
                    string name = reader.GetString()!;
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String) throw Bad($"tensor '{name}': expected the shard's " +
                        "file name, a string", reader.TokenStartIndex);
                    if (!map.TryAdd(name, (reader.GetString()!, at))) throw Bad($"tensor '{name}' is listed twice in \"weight_map\"", at);
                }
            }
            if (JsonEnd.HasTrailingData(ref reader)) throw Bad("unexpected data after the index object", reader.TokenStartIndex);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new FileFormatException(path, $"not a valid index JSON: {e.Message}", byteOffset: reader.BytesConsumed, inner: e);
        }
        if (!found || map.Count == 0) throw Bad("no \"weight_map\" (tensor → shard file) with any tensor; is this a safetensors index?", 0);
        return map;

        FileFormatException Bad(string cause, long offset) => new(path, cause, byteOffset: offset);
    }
}
