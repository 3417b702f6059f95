using System.Text;
using TokenSpace.IO;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// The keys of a bare matrix (<c>.npy</c>, <c>.safetensors</c>): a UTF-8 text file beside it, one key per line,
/// named after the matrix (<c>glove.npy</c> → <c>glove.keys.txt</c>), the pair a NumPy user loads with
/// <c>np.load("glove.npy")</c> and <c>open("glove.keys.txt").read().splitlines()</c>.
/// </summary>
public static class KeysFile
{
    /// <summary>The keys file that goes with the matrix at <paramref name="matrixPath"/>.</summary>
    public static string Beside(string matrixPath) => Path.ChangeExtension(matrixPath, null) + ".keys.txt";

    /// <summary>Writes the keys of <paramref name="vectors"/> beside <paramref name="matrixPath"/>, atomically.</summary>
    /// <exception cref="ArgumentException">A key is empty or holds a line break, which one key per line cannot hold.</exception>
    public static void Write(KeyedVectors vectors, string matrixPath)
    {
        foreach (string key in vectors.Keys)
        {
            if (key.Length == 0 || key.AsSpan().IndexOfAny('\n', '\r') >= 0)
            {
                throw new ArgumentException(
                    $"key '{KeyText.Visible(key)}' is empty or holds a line break, which a keys file (one key per line) cannot hold");
            }
        }
        AtomicFile.Write(Beside(matrixPath), stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 20, leaveOpen: true) { NewLine = "\n" };
            foreach (string key in vectors.Keys) writer.WriteLine(key);
        });
    }
}
