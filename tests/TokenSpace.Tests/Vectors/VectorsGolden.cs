using System.Text.Json;
using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

/// <summary>The small vector set and gensim's answers written by tools/reference/vectors_golden.py.</summary>
static class VectorsGolden
{
    public static string Path(string name) => TestData.Golden(System.IO.Path.Combine("vectors", name));

    public static KeyedVectors Load() => VectorsFile.Load(Path("small.txt"));

    public static JsonElement Expected { get; } = JsonDocument.Parse(File.ReadAllText(Path("expected.json"))).RootElement;

    /// <summary>A random (rows × dims) matrix with keys w0, w1, …; some rows repeated and one zero row so ties and zero norms occur.</summary>
    public static KeyedVectors Random(int rows, int dims, int seed)
    {
        var rng = new Random(seed);
        var m = new float[rows * dims];
        for (int i = 0; i < m.Length; i++) m[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int r = 10; r < rows; r += 97) m.AsSpan((r - 7) * dims, dims).CopyTo(m.AsSpan(r * dims, dims));
        m.AsSpan(3 * dims, dims).Clear();
        return new KeyedVectors(Enumerable.Range(0, rows).Select(i => "w" + i), m, dims);
    }
}
