using System.Buffers.Binary;
using System.Text.Json;

namespace TokenSpace.Tests.Formats;

/// <summary>Writes synthetic Hugging Face checkpoints: safetensors shards of any dtype, the shard index and a tokenizer.json.</summary>
static class HfShards
{
    /// <summary>One tensor of a shard: its raw little-endian bytes.</summary>
    public sealed record Tensor(string Name, string DType, long[] Shape, byte[] Data);

    /// <summary>A safetensors file holding <paramref name="tensors"/> in order (header padded to 8 bytes).</summary>
    public static void WriteShard(string path, params Tensor[] tensors)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var t in tensors)
        {
            header[t.Name] = new { dtype = t.DType, shape = t.Shape, data_offsets = new[] { offset, offset + t.Data.Length } };
            offset += t.Data.Length;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        using var stream = File.Create(path);
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        stream.Write(prefix);
        stream.Write(json);
        stream.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
        foreach (var t in tensors) stream.Write(t.Data);
    }

    /// <summary><c>model.safetensors.index.json</c> in <paramref name="dir"/> mapping each tensor to its shard.</summary>
    public static void WriteIndex(string dir, IEnumerable<(string Tensor, string Shard)> map) =>
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), JsonSerializer.Serialize(new
        {
            metadata = new { total_size = 0 },
            weight_map = map.ToDictionary(m => m.Tensor, m => m.Shard),
        }));

    /// <summary>A Hugging Face tokenizer.json: BPE vocabulary <paramref name="pieces"/> (id = position), added tokens after them, the given decoder.</summary>
    public static void WriteTokenizer(string dir, IReadOnlyList<string> pieces, IReadOnlyList<string> added, object decoder)
    {
        var vocab = new Dictionary<string, int>();
        for (int i = 0; i < pieces.Count; i++) vocab[pieces[i]] = i;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), JsonSerializer.Serialize(new
        {
            version = "1.0",
            added_tokens = added.Select((a, i) => new { id = pieces.Count + i, content = a, special = true }),
            decoder,
            model = new { type = "BPE", vocab, merges = Array.Empty<string>() },
        }));
    }

    /// <summary>float32 → bfloat16 bits, rounded to nearest even (as PyTorch's <c>.to(torch.bfloat16)</c>).</summary>
    public static ushort BFloat16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>The little-endian bytes of 16-bit values.</summary>
    public static byte[] Bytes(IEnumerable<ushort> values) => values.SelectMany(v => new[] { (byte)v, (byte)(v >> 8) }).ToArray();
}
