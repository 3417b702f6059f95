namespace TokenSpace.Vectors;

public sealed partial class KeyedVectors
{
    /// <summary>
    /// Up to <paramref name="limit"/> keys starting with <paramref name="prefix"/> (ignoring case), in row
    /// order (most frequent first for word vectors): <c>kv.KeysWithPrefix("fro", 3)</c> → from, front, frozen.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    public IReadOnlyList<string> KeysWithPrefix(string prefix, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var found = new List<string>();
        for (int i = 0; i < keys.Count && found.Count < limit; i++)
        {
            if (keys[i].StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) found.Add(keys[i]);
        }
        return found;
    }

    /// <summary>
    /// Close spellings of <paramref name="key"/>, as the "did you mean" of an unknown key: keys differing only
    /// by case, or by at most two edits (one for keys of up to three characters), case variants and fewer
    /// edits first, then earlier rows. <c>kv.SuggestKeys("frgo")</c> → frog, …
    /// </summary>
    public IReadOnlyList<string> SuggestKeys(string key, int max = 5) => KeySuggestions.Find(key, keys, max);
}
