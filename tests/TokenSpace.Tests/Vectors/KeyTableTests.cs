using System.Text;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

public class KeyTableTests
{
    static KeyTable Table(IReadOnlyList<string> keys) =>
        KeyTable.FromStrings(keys, (key, first, row) => new ArgumentException($"'{key}' at {first} and {row}"));

    [Fact]
    public void FromStrings_AnyString_RoundTripsAndIsFound()
    {
        // ASCII, accents, a surrogate pair, lone surrogates (a character vocabulary of UTF-16 code units has them), U+FFFD,
        // the empty key, and one longer than the lookup's stack buffer.
        string[] keys = ["king", "café", "😀", "\uD83D", "\uDE00", "a\uD800b", "\uFFFD", "", " king", new string('x', 300) + "é"];
        var table = Table(keys);
        table.CheckUnique();
        Assert.Equal(keys.Length, table.Count);
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal(keys[i], table[i]);
            Assert.Equal(i, table.Find(keys[i]));
        }
        Assert.Equal(keys, table.ToArray());
        Assert.Equal(Encoding.UTF8.GetBytes("café"), table.KeyBytes(1).ToArray());
        Assert.Equal(-1, table.Find("King"));
        Assert.Equal(-1, table.Find("\uD800")); // a lone surrogate is not its replacement character
        Assert.Equal(-1, table.Find(new string('x', 300)));
    }

    [Fact]
    public void Find_ManyKeys_EveryKeyAtItsRowAndNoOther()
    {
        var keys = Enumerable.Range(0, 200_000).Select(i => "w" + i).ToArray();
        var table = Table(keys);
        for (int i = 0; i < keys.Length; i++) Assert.Equal(i, table.Find(keys[i]));
        for (int i = 0; i < 20_000; i++) Assert.Equal(-1, table.Find("v" + i));
        Assert.Equal(-1, Table([]).Find("a"));
    }

    [Fact]
    public void CheckUnique_RepeatedKey_ThrowsTheCallersErrorWithBothRows()
    {
        var table = Table(["a", "b", "c", "b"]);
        var e = Assert.Throws<ArgumentException>(table.CheckUnique);
        Assert.Equal("'b' at 1 and 3", e.Message);
        // The lookup that builds the table throws the same.
        Assert.Throws<ArgumentException>(() => Table(["x", "x"]).Find("x"));
    }

    [Fact]
    public void Builder_AddsPastItsCapacity_KeysKept()
    {
        var builder = new KeyTable.Builder(3, 1);
        foreach (string key in new[] { "alpha", "", "gamma" }) builder.Add(Encoding.UTF8.GetBytes(key));
        var table = builder.Build((key, first, row) => new ArgumentException(key));
        Assert.Equal(["alpha", "", "gamma"], table.ToArray());
        Assert.Equal(2, table.Find("gamma"));
    }

    [Fact]
    public void Load_Word2VecBinaryRepeatedKeyPastManyRows_BothByteOffsets()
    {
        string path = Path.GetTempFileName();
        try
        {
            var keys = Enumerable.Range(0, 3000).Select(i => $"k{i:D4}").ToArray();
            using (var kv = new KeyedVectors(keys, new float[3000], 1)) VectorsFile.Save(kv, path, VectorFormat.Word2VecBinary);
            var bytes = File.ReadAllBytes(path);
            const int header = 7, row = 11; // "3000 1\n"; "k0000 " + 4 bytes + "\n"
            "k1500"u8.CopyTo(bytes.AsSpan(header + row * 2999));
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(path, VectorFormat.Word2VecBinary));
            Assert.Contains($"duplicate key 'k1500' (first at byte {header + row * 1500})", e.Message);
            Assert.Equal(header + row * 2999, e.ByteOffset);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_ReplacedInvalidUtf8_KeyFoundByItsReplacement()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [.. "ab"u8, 0xFF, .. " 1 2\nc 3 4\n"u8]);
            using var kv = VectorsFile.Load(path, VectorFormat.GloVe, new() { Utf8Errors = Utf8Errors.Replace });
            Assert.Equal(["ab\uFFFD", "c"], kv.Keys.ToArray());
            Assert.Equal(0, kv.IndexOf("ab\uFFFD"));
            Assert.Equal([3f, 4f], kv.GetVector("c").ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_RepeatedKeyInEveryReader_LocatedError()
    {
        string dir = Directory.CreateTempSubdirectory("keytable-").FullName;
        try
        {
            using var kv = new KeyedVectors(["a", "b", "c"], [1, 2, 3, 4, 5, 6], 2);
            string bin = Path.Combine(dir, "v.bin"), native = Path.Combine(dir, "v.tsvec");
            VectorsFile.Save(kv, bin, VectorFormat.Word2VecBinary);
            VectorsFile.Save(kv, native, VectorFormat.Native);
            // Rename key c to a in place: same length, so every offset stays right.
            foreach (string path in new[] { bin, native })
            {
                var bytes = File.ReadAllBytes(path);
                int at = Array.IndexOf(bytes, (byte)'c', path == bin ? 0 : 64 + 3 * 8);
                bytes[at] = (byte)'a';
                File.WriteAllBytes(path, bytes);
            }
            var e = Assert.Throws<FileFormatException>(() => VectorsFile.Load(bin));
            Assert.Contains("duplicate key 'a' (first at byte", e.Message);
            Assert.NotNull(e.ByteOffset);
            // The native file checks on first lookup (its writer never repeats a key).
            using var mapped = VectorsFile.Load(native);
            e = Assert.Throws<FileFormatException>(() => mapped.Contains("a"));
            Assert.Contains("duplicate key 'a'", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>The load of a file of short rows stays within the bound, 2 × the file + 64 MB (alone: it counts the process's
/// allocations).</summary>
[Collection(ProcessWideState.Name)]
public class KeyTableMemoryTests
{
    [Fact]
    public void Load_TwoMillionShortRows_AllocatesLessThanTheFilePlus64MB()
    {
        string path = Path.GetTempFileName();
        try
        {
            using (var writer = new StreamWriter(path))
            {
                for (int i = 0; i < 2_000_000; i++) writer.Write($"w{i} 0.5\n");
            }
            long file = new FileInfo(path).Length;
            GC.Collect();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            using var kv = VectorsFile.Load(path);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            // Every byte allocated counted as held at once, plus the whole file mapped: the peak can be no more. Strings and a
            // Dictionary took about 160 MB here.
            Assert.True(allocated + file <= 2 * file + (64L << 20), $"{allocated / 1e6:F1} MB allocated for a {file / 1e6:F1} MB file");
            Assert.Equal(1_999_999, kv.IndexOf("w1999999"));
            Assert.Equal("w123", kv.Keys[123]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
