using System.Globalization;
using System.Text;
using TokenSpace.IO;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// The TensorFlow Embedding Projector's input (projector.tensorflow.org → Load): <c>vectors.tsv</c>
/// with one tab-separated row per key and <c>metadata.tsv</c> with the keys, one per line (a single
/// column has no header line).
/// </summary>
static class ProjectorTsv
{
    /// <summary>Writes both files into the folder <paramref name="folder"/>, each atomically.</summary>
    public static void Write(KeyedVectors vectors, string folder)
    {
        foreach (string key in vectors.Keys)
        {
            if (key.AsSpan().IndexOfAny("\t\n\r") >= 0) throw new ArgumentException($"key '{key}' contains a tab or newline, which " +
                "metadata.tsv cannot hold");
        }
        Directory.CreateDirectory(folder);
        AtomicFile.Write(Path.Combine(folder, "vectors.tsv"), stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 20, leaveOpen: true);
            for (int i = 0; i < vectors.Count; i++)
            {
                var row = vectors.Row(i);
                for (int j = 0; j < row.Length; j++)
                {
                    if (j > 0) writer.Write('\t');
                    writer.Write(row[j].ToString("R", CultureInfo.InvariantCulture));
                }
                writer.Write('\n');
            }
        });
        AtomicFile.Write(Path.Combine(folder, "metadata.tsv"), stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 20, leaveOpen: true);
            foreach (string key in vectors.Keys)
            {
                writer.Write(key);
                writer.Write('\n');
            }
        });
    }
}
