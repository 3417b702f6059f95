using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Formats;

/// <summary>
/// Hostile files for every reader: mutants of a small valid file of each format (truncations, bit
/// flips, random bytes, splices, repeated and deleted chunks, extreme numbers) plus the overflow set
/// (every size, shape and offset field set to each of 2^31, 2^32, 2^60+1, 2^62, 2^63−1, −1 and 0),
/// each loaded in-process and, when it loads, queried. The only exception allowed is
/// <see cref="FileFormatException"/>; a similarity must never be NaN.
/// <para>
/// A plain seeded generator rather than FsCheck or CsCheck: the mutations must know where each format
/// keeps its fields (binary offsets, numbers inside a JSON or text header, the length prefix that a
/// longer number shifts), which generic generators do not; shrinking a byte mutant buys little
/// when the case is printed whole; and the seed and case number reproduce any failure.
/// </para>
/// The CI run does <see cref="DefaultCases"/> random cases per format; set <c>TOKENSPACE_FUZZ_CASES</c>
/// (for example 10000, with <c>DOTNET_GCHeapHardLimit=0x20000000</c>) for the long run.
/// </summary>
public sealed class ReaderFuzzTests : IDisposable
{
    const int DefaultCases = 300;

    static readonly long[] Overflow = [1L << 31, 1L << 32, (1L << 60) + 1, 1L << 62, long.MaxValue, -1, 0];

    static readonly string[] ExtremeNumbers = ["1e39", "-1e39", "nan", "inf", "-Infinity", "3.4028235e38", "1e-50", "1e-30", "99999999999999999999", "-0"];

    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-fuzz-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static int Cases => int.TryParse(Environment.GetEnvironmentVariable("TOKENSPACE_FUZZ_CASES"), out int n) && n > 0 ? n : DefaultCases;

    public static TheoryData<string> FormatNames => ["word2vec-bin", "word2vec", "glove", "fasttext", "npy", "native", "wink-json", "safetensors", "fasttext-bin", SafetensorsBf16, SafetensorsIndex];

    /// <summary>Two more cases of the safetensors reader: a BF16 tensor (kept mapped as stored), and a sharded checkpoint's index (its shards left intact).</summary>
    const string SafetensorsBf16 = "safetensors-bf16", SafetensorsIndex = "safetensors-index";

    [Theory]
    [MemberData(nameof(FormatNames))]
    public void Load_MutantsAndOverflowSet_OnlyFileFormatExceptionAndNoNaN(string name)
    {
        var format = name is SafetensorsBf16 or SafetensorsIndex ? VectorFormat.Safetensors : VectorsFile.ParseFormat(name);
        var seed = name switch
        {
            SafetensorsBf16 => Bf16Seed(),
            SafetensorsIndex => IndexSeed(),
            _ => Seed(format),
        };
        string path = Path.Combine(dir, "mutant" + seed.Extension);
        File.WriteAllText(Path.Combine(dir, "mutant.keys.txt"), string.Join("\n", Keys) + "\n");
        var rng = new Rng(name.Aggregate(0x5EEDUL, (h, ch) => h * 31 + ch));
        var cases = OverflowSet(seed).Concat(Enumerable.Range(0, Cases).Select(i => Random(seed, rng, i))).ToList();

        int loaded = 0, refused = 0, nanScores = 0;
        long worstExcess = long.MinValue, worstProcessExcess = long.MinValue;
        double slowestMs = 0;
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int c = 0; c < cases.Count; c++)
        {
            var (what, bytes) = cases[c];
            File.WriteAllBytes(path, bytes);
            long allocated = GC.GetAllocatedBytesForCurrentThread(), processAllocated = GC.GetTotalAllocatedBytes();
            long start = Stopwatch.GetTimestamp();
            try
            {
                // Half the cases force the format, half let detection choose (and meet its own checks).
                using var kv = VectorsFile.Load(path, c % 2 == 0 ? format : null);
                nanScores += Probe(kv);
                loaded++;
            }
            catch (FileFormatException)
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"case {c} ({what}): {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
            slowestMs = Math.Max(slowestMs, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            worstExcess = Math.Max(worstExcess, GC.GetAllocatedBytesForCurrentThread() - allocated - 2L * bytes.Length);
            worstProcessExcess = Math.Max(worstProcessExcess, GC.GetTotalAllocatedBytes() - processAllocated - 2L * bytes.Length);
        }
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{name}: {cases.Count} cases in {clock.Elapsed.TotalSeconds:F1} s: {loaded} loaded, {refused} refused with FileFormatException, "
            + $"{failures.Count} other exceptions, {nanScores} NaN scores; slowest case {slowestMs:F1} ms; "
            + $"most allocated beyond 2 × file {worstExcess / 1e6:F2} MB by the loading thread, {worstProcessExcess / 1e6:F2} MB by the process");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} mutants of {name} threw something else:\n{string.Join("\n", failures.Take(20))}");
        Assert.Equal(0, nanScores);
        // The loading thread's own count: the process-wide one also holds whatever tests run beside this one.
        Assert.True(worstExcess < 64L << 20, $"a load allocated {worstExcess / 1e6:F1} MB beyond twice its file size");
    }

    /// <summary>Builds the key → row map and runs the queries; returns how many scores were not finite.</summary>
    static int Probe(KeyedVectors kv)
    {
        if (kv.Count == 0) return 0;
        int bad = kv.Contains(kv.Keys[0]) ? 0 : 1;
        bad += kv.MostSimilar(kv.Keys[0], topN: 3).Count(n => !float.IsFinite(n.Similarity));
        if (kv.Count > 1 && !float.IsFinite(kv.Similarity(kv.Keys[0], kv.Keys[^1]))) bad++;
        return bad;
    }

    static readonly string[] Keys = ["the", "king", "queen", "é", "日本", "a-b"];

    /// <summary>A field mutations target: a little-endian integer of 2, 4 or 8 bytes, or a run of ASCII digits.</summary>
    readonly record struct Field(int Offset, int Width, bool Text);

    /// <summary>
    /// A valid file and its fields; <paramref name="LengthPrefix"/> (offset, width) is a header-length
    /// field kept consistent when a text field changes length, so the mutant reaches the checks after it.
    /// </summary>
    sealed record SeedFile(string Extension, byte[] Bytes, Field[] Fields, (int Offset, int Width)? LengthPrefix);

    SeedFile Seed(VectorFormat format)
    {
        var values = new float[Keys.Length * 4];
        var rng = new Rng(7);
        rng.FillUniform(values, -1, 1);
        values[4] = 1e20f;
        values[9] = 1e-30f;
        using var kv = new KeyedVectors(Keys, values, 4);
        switch (format)
        {
            case VectorFormat.Npy:
                return NpySeed(values);
            case VectorFormat.FastTextBinary:
            {
                var buckets = new float[8 * 4];
                rng.FillUniform(buckets, -1, 1);
                var layout = FastTextFiles.Write(Keys, dim: 4, bucket: 8, minn: 2, maxn: 3, [.. values, .. buckets]);
                return new SeedFile(".bin", layout.Bytes, [.. layout.Fields.Select(f => new Field(f.Offset, f.Width, false))], null);
            }
            case VectorFormat.WinkJson:
                return TextSeed(".json", Encoding.UTF8.GetBytes(WinkJsonText(values)), 0, int.MaxValue, null);
            case VectorFormat.Safetensors:
            {
                string path = Path.Combine(dir, "seed.safetensors");
                SafetensorsFile.Write(path, [("wte", [Keys.Length, 4], values), ("wpe", [2, 4], values.AsMemory(0, 8))]);
                var bytes = File.ReadAllBytes(path);
                int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
                var seed = TextSeed(".safetensors", bytes, 8, headerEnd, (0, 8));
                return seed with { Fields = [new Field(0, 8, false), .. seed.Fields] };
            }
            default:
            {
                string extension = format switch
                {
                    VectorFormat.Word2VecBinary => ".bin",
                    VectorFormat.Native => ".tsvec",
                    VectorFormat.GloVe => ".glove",
                    _ => ".txt",
                };
                string path = Path.Combine(dir, "seed" + extension);
                VectorsFile.Save(kv, path, format == VectorFormat.FastText ? VectorFormat.Word2VecText : format);
                var bytes = File.ReadAllBytes(path);
                if (format == VectorFormat.FastText) bytes = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes).Replace("\n", " \r\n"));
                if (format != VectorFormat.Native) return TextSeed(extension, bytes, 0, Array.IndexOf(bytes, (byte)'\n'), null);
                // The native header's dtype and six 64-bit fields, then each key's end in the key table.
                Field[] fields = [new(8, 4, false), .. Enumerable.Range(0, 6 + Keys.Length).Select(i => new Field(16 + 8 * i, 8, false))];
                return new SeedFile(extension, bytes, fields, null);
            }
        }
    }

    /// <summary>A safetensors file of BF16 wte (6 × 4) and wpe (2 × 4); its fields: the header length and the header's integers.</summary>
    SeedFile Bf16Seed()
    {
        string path = Path.Combine(dir, "seed.safetensors");
        var values = new float[Keys.Length * 4];
        new Rng(7).FillUniform(values, -1, 1);
        var bits = HfShards.Bytes(values.Select(HfShards.BFloat16));
        HfShards.WriteShard(path, new HfShards.Tensor("wte", "BF16", [Keys.Length, 4], bits), new HfShards.Tensor("wpe", "BF16", [2, 4], bits[..16]));
        var bytes = File.ReadAllBytes(path);
        var seed = TextSeed(".safetensors", bytes, 8, 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes), (0, 8));
        return seed with { Fields = [new Field(0, 8, false), .. seed.Fields] };
    }

    /// <summary>The index of a two-shard checkpoint (BF16 embedding in shard 1, a norm in shard 2) written beside the mutant; its fields: the index's integers.</summary>
    SeedFile IndexSeed()
    {
        var values = new float[Keys.Length * 4];
        new Rng(7).FillUniform(values, -1, 1);
        HfShards.WriteShard(Path.Combine(dir, "model-00001-of-00002.safetensors"),
            new HfShards.Tensor("model.embed_tokens.weight", "BF16", [Keys.Length, 4], HfShards.Bytes(values.Select(HfShards.BFloat16))));
        HfShards.WriteShard(Path.Combine(dir, "model-00002-of-00002.safetensors"), new HfShards.Tensor("model.norm.weight", "BF16", [4], new byte[8]));
        HfShards.WriteIndex(dir, [("model.embed_tokens.weight", "model-00001-of-00002.safetensors"), ("model.norm.weight", "model-00002-of-00002.safetensors")]);
        var bytes = File.ReadAllBytes(Path.Combine(dir, "model.safetensors.index.json"));
        return TextSeed(".index.json", bytes, 0, bytes.Length, null);
    }

    /// <summary>A seed whose fields are the integers (digit runs not part of a decimal) within [from, to).</summary>
    static SeedFile TextSeed(string extension, byte[] bytes, int from, int to, (int, int)? prefix)
    {
        var fields = new List<Field>();
        to = Math.Min(to, bytes.Length);
        for (int i = from; i < to; i++)
        {
            if (!char.IsAsciiDigit((char)bytes[i]) || (i > 0 && (char.IsAsciiDigit((char)bytes[i - 1]) || bytes[i - 1] is (byte)'.' or (byte)'-' or (byte)'e'))) continue;
            int end = i;
            while (end < to && char.IsAsciiDigit((char)bytes[end])) end++;
            if (end < to && bytes[end] is (byte)'.' or (byte)'e') continue;
            fields.Add(new Field(i, end - i, true));
        }
        return new SeedFile(extension, bytes, [.. fields], prefix);
    }

    static SeedFile NpySeed(float[] values)
    {
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({Keys.Length}, 4), }}";
        dict = dict.PadRight((dict.Length + 10 + 63) / 64 * 64 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 };
        bytes.AddRange(BitConverter.GetBytes((ushort)dict.Length));
        bytes.AddRange(Encoding.Latin1.GetBytes(dict));
        foreach (float v in values) bytes.AddRange(BitConverter.GetBytes(v));
        var seed = TextSeed(".npy", [.. bytes], 10, 10 + dict.Length, (8, 2));
        return seed with { Fields = [new Field(8, 2, false), .. seed.Fields] };
    }

    static string WinkJsonText(float[] values)
    {
        var vectors = Keys.Select((k, r) =>
            $"\"{k}\": [{string.Join(", ", values.Skip(4 * r).Take(4).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}, 1.0, {r}]");
        return $"{{\"precision\": 4, \"l2NormIndex\": 4, \"wordIndex\": 5, \"size\": {Keys.Length}, \"dimensions\": 4, "
            + $"\"words\": [{string.Join(", ", Keys.Select(k => $"\"{k}\""))}], \"vectors\": {{{string.Join(", ", vectors)}}}, \"unkVector\": [0, 0, 0, 0]}}";
    }

    /// <summary>Every field set to every value of the overflow set.</summary>
    static IEnumerable<(string What, byte[] Bytes)> OverflowSet(SeedFile seed) =>
        from field in seed.Fields
        from value in Overflow
        select ($"field at byte {field.Offset} = {value}", SetField(seed, field, value));

    static byte[] SetField(SeedFile seed, Field field, long value)
    {
        if (!field.Text)
        {
            var copy = seed.Bytes.ToArray();
            var span = copy.AsSpan(field.Offset, field.Width);
            if (field.Width == 8) BinaryPrimitives.WriteInt64LittleEndian(span, value);
            else if (field.Width == 4) BinaryPrimitives.WriteInt32LittleEndian(span, (int)value);
            else BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value);
            return copy;
        }
        return Replace(seed, field.Offset, field.Width, Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Bytes [offset, offset + width) replaced by <paramref name="with"/>, the length prefix (if any) moved by the difference.</summary>
    static byte[] Replace(SeedFile seed, int offset, int width, byte[] with)
    {
        var result = seed.Bytes[..offset].Concat(with).Concat(seed.Bytes[(offset + width)..]).ToArray();
        if (seed.LengthPrefix is var (at, size) && offset >= at + size)
        {
            var span = result.AsSpan(at, size);
            long length = size == 8 ? BinaryPrimitives.ReadInt64LittleEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span);
            length += with.Length - width;
            if (size == 8) BinaryPrimitives.WriteInt64LittleEndian(span, length);
            else BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)length);
        }
        return result;
    }

    /// <summary>One random mutant: one to three operations on the seed.</summary>
    static (string What, byte[] Bytes) Random(SeedFile seed, Rng rng, int index)
    {
        var bytes = seed.Bytes;
        var what = new List<string>();
        int ops = 1 + rng.NextInt(3);
        for (int o = 0; o < ops; o++)
        {
            int n = bytes.Length;
            int at = rng.NextInt(Math.Max(1, n));
            switch (rng.NextInt(8))
            {
                case 0:
                    bytes = bytes[..at];
                    what.Add($"truncate to {at}");
                    break;
                case 1:
                    bytes = bytes.ToArray();
                    for (int k = 1 + rng.NextInt(4); k > 0 && n > 0; k--) bytes[rng.NextInt(n)] ^= (byte)(1 << rng.NextInt(8));
                    what.Add("flip bits");
                    break;
                case 2:
                    bytes = bytes.ToArray();
                    for (int k = 1 + rng.NextInt(4); k > 0 && n > 0; k--) bytes[rng.NextInt(n)] = (byte)rng.NextInt(256);
                    what.Add("random bytes");
                    break;
                case 3:
                {
                    int from = rng.NextInt(Math.Max(1, n)), length = Math.Min(n - from, 1 + rng.NextInt(24));
                    bytes = [.. bytes[..at], .. bytes.AsSpan(from, Math.Max(0, length)), .. bytes[at..]];
                    what.Add($"splice {length} bytes from {from} at {at}");
                    break;
                }
                case 4:
                {
                    int length = Math.Min(n - at, 1 + rng.NextInt(16));
                    bytes = [.. bytes[..at], .. bytes[(at + Math.Max(0, length))..]];
                    what.Add($"delete {length} at {at}");
                    break;
                }
                case 5 when seed.Fields.Length > 0 && bytes.Length == seed.Bytes.Length:
                {
                    var field = seed.Fields[rng.NextInt(seed.Fields.Length)];
                    long value = rng.NextInt(3) switch
                    {
                        0 => Overflow[rng.NextInt(Overflow.Length)],
                        1 => rng.NextInt(64) - 8,
                        _ => (long)rng.NextUInt64(),
                    };
                    bytes = SetField(seed with { Bytes = bytes }, field, value);
                    what.Add($"field at {field.Offset} = {value}");
                    break;
                }
                case 6:
                {
                    // A repeated line or chunk: duplicate keys, members, tensor names.
                    int end = Array.IndexOf(bytes, (byte)'\n', at);
                    int length = end < 0 ? Math.Min(n - at, 32) : end + 1 - at;
                    bytes = [.. bytes[..(at + length)], .. bytes.AsSpan(at, length), .. bytes[(at + length)..]];
                    what.Add($"repeat {length} bytes at {at}");
                    break;
                }
                default:
                {
                    // An extreme number in place of a number (or anywhere, when there is none at `at`).
                    int start = at;
                    while (start < n && !char.IsAsciiDigit((char)bytes[start])) start++;
                    int end = start;
                    while (end < n && (char.IsAsciiDigit((char)bytes[end]) || bytes[end] is (byte)'.' or (byte)'e' or (byte)'-')) end++;
                    string number = ExtremeNumbers[rng.NextInt(ExtremeNumbers.Length)];
                    bytes = [.. bytes[..Math.Min(start, n)], .. Encoding.ASCII.GetBytes(number), .. bytes[Math.Min(end, n)..]];
                    what.Add($"number {number} at {start}");
                    break;
                }
            }
        }
        return ($"#{index}: {string.Join(", ", what)}", bytes);
    }
}
