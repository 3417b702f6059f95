using System.Buffers.Binary;
using System.Text;

namespace TokenSpace.Tests.Formats;

/// <summary>Writes small fastText <c>.bin</c> models in Facebook's layout, for hostile-file and fuzz tests.</summary>
static class FastTextFiles
{
    /// <summary>The offsets of the integer fields of a written model: (offset, width in bytes).</summary>
    public sealed record Layout(byte[] Bytes, (int Offset, int Width)[] Fields, int MatrixHeader, int MatrixData);

    /// <summary>
    /// A model of <paramref name="words"/> with input rows <paramref name="input"/> ((words + bucket) × dim), no
    /// output matrix beyond a 1 × dim one; <paramref name="quantized"/> sets quant_input.
    /// </summary>
    public static Layout Write(string[] words, int dim, int bucket, int minn, int maxn, float[] input, bool quantized = false)
    {
        var b = new List<byte>();
        var fields = new List<(int, int)>();
        void I32(int v, bool field = true)
        {
            if (field) fields.Add((b.Count, 4));
            b.AddRange(BitConverter.GetBytes(v));
        }
        void I64(long v)
        {
            fields.Add((b.Count, 8));
            b.AddRange(BitConverter.GetBytes(v));
        }
        I32(793712314, field: false);
        I32(12);
        foreach (int v in new[] { dim, 5, 5, 1, 5, 1, 1, 1, bucket, minn, maxn, 100 }) I32(v);
        b.AddRange(BitConverter.GetBytes(1e-4));
        I32(words.Length);
        I32(words.Length);
        I32(0);
        I64(1000);
        I64(-1);
        foreach (string w in words)
        {
            b.AddRange(Encoding.UTF8.GetBytes(w));
            b.Add(0);
            b.AddRange(BitConverter.GetBytes(10L));
            b.Add(0);
        }
        int matrixHeader = b.Count;
        b.Add(quantized ? (byte)1 : (byte)0);
        I64(words.Length + bucket);
        I64(dim);
        int matrixData = b.Count;
        foreach (float v in input) b.AddRange(BitConverter.GetBytes(v));
        b.Add(0);
        b.AddRange(BitConverter.GetBytes(1L));
        b.AddRange(BitConverter.GetBytes((long)dim));
        b.AddRange(new byte[4 * dim]);
        return new Layout([.. b], [.. fields], matrixHeader, matrixData);
    }

    /// <summary>Overwrites the little-endian int64 at <paramref name="offset"/>.</summary>
    public static byte[] With64(byte[] bytes, int offset, long value)
    {
        var copy = bytes.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }
}
