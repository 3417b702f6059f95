using TokenSpace.IO;

namespace TokenSpace.Formats;

/// <summary>
/// A metadata TSV as the Embedding Projector reads it with a key column: a header line
/// <c>key&lt;TAB&gt;column…</c>, then one line per key. Keys absent from the file have no metadata.
/// </summary>
/// <example><code>var meta = KeyMetadata.Read("words.tsv"); string? pos = meta.Of("frog")?[meta.IndexOf("pos")];</code></example>
public sealed class KeyMetadata
{
    readonly Dictionary<string, string[]> rows;

    KeyMetadata(string[] columns, Dictionary<string, string[]> rows)
    {
        Columns = columns;
        this.rows = rows;
    }

    /// <summary>The columns after the key column, in file order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Reads <paramref name="path"/>; the first line naming a key wins when a key repeats.</summary>
    /// <exception cref="FileFormatException">The file is empty, the header has fewer than two columns, or a line has a different number of
    /// fields than the header.</exception>
    public static KeyMetadata Read(string path)
    {
        using var lines = File.ReadLines(path).GetEnumerator();
        if (!lines.MoveNext()) throw new FileFormatException(path, "empty; expected a header line: key<TAB>group…", 1);
        string[] header = lines.Current.Split('\t');
        if (header.Length < 2) throw new FileFormatException(path,
            "expected at least two tab-separated columns in the header: key<TAB>group", 1);
        var rows = new Dictionary<string, string[]>(StringComparer.Ordinal);
        long line = 1;
        while (lines.MoveNext())
        {
            line++;
            if (lines.Current.Length == 0) continue;
            string[] fields = lines.Current.Split('\t');
            if (fields.Length != header.Length)
            {
                throw new FileFormatException(path,
                    $"expected {header.Length} tab-separated fields as in the header, found {fields.Length}", line);
            }
            rows.TryAdd(fields[0], fields[1..]);
        }
        return new KeyMetadata(header[1..], rows);
    }

    /// <summary>The position of <paramref name="column"/> in <see cref="Columns"/>, or -1.</summary>
    public int IndexOf(string column) => Columns.ToList().IndexOf(column);

    /// <summary>The fields of <paramref name="key"/>, one per column, or null when the file does not list it.</summary>
    public IReadOnlyList<string>? Of(string key) => rows.GetValueOrDefault(key);
}
