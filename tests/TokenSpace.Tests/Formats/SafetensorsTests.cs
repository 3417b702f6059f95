using System.Buffers.Binary;
using TokenSpace.Formats;

namespace TokenSpace.Tests.Formats;

public class SafetensorsTests
{
    [Fact]
    public void Write_ThenOpen_RoundTripsNamesShapesAndValues()
    {
        string path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            float[] a = [1f, -2.5f, 3e-8f, float.MaxValue, 0f, 7f];
            float[] b = [42f];
            SafetensorsFile.Write(path, [("wte.weight", [2, 3], a), ("h.0.ln_1.bias", [1], b)],
                new Dictionary<string, string> { ["format"] = "pt" });

            var file = SafetensorsFile.Open(path);
            Assert.Equal(["wte.weight", "h.0.ln_1.bias"], file.Entries.Keys);
            Assert.Equal([2L, 3L], file.Entries["wte.weight"].Shape);
            Assert.Equal(a, file.ReadFloat32("wte.weight"));
            Assert.Equal(b, file.ReadFloat32("h.0.ln_1.bias"));
            Assert.Equal("pt", file.Metadata["format"]);
            Assert.Equal(0, file.DataStart % 8);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Open_TruncatedData_ThrowsNamingTensorAndFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafetensorsFile.Write(path, [("wpe.weight", [4, 4], new float[16])]);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^5]);
            var e = Assert.Throws<FileFormatException>(() => SafetensorsFile.Open(path));
            Assert.Contains("wpe.weight", e.Message);
            Assert.Contains(path, e.Message);
            Assert.Contains("truncated", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Open_HeaderLengthBeyondFile_Throws()
    {
        string path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            var bytes = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<FileFormatException>(() => SafetensorsFile.Open(path));
            Assert.Equal(0, e.ByteOffset);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReadFloat32_F16AndBF16_Converts()
    {
        string path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            const string header = """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}""";
            var json = System.Text.Encoding.UTF8.GetBytes(header);
            var bytes = new byte[8 + json.Length + 8];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
            json.CopyTo(bytes, 8);
            int d = 8 + json.Length;
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(d), (Half)1.5f);
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(d + 2), (Half)(-0.25f));
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(d + 4), (ushort)(BitConverter.SingleToInt32Bits(3.0f) >> 16));
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(d + 6), (ushort)(BitConverter.SingleToInt32Bits(-2.0f) >> 16));
            File.WriteAllBytes(path, bytes);

            var file = SafetensorsFile.Open(path);
            Assert.Equal([1.5f, -0.25f], file.ReadFloat32("h"));
            Assert.Equal([3.0f, -2.0f], file.ReadFloat32("b"));
            Assert.Throws<KeyNotFoundException>(() => file.ReadFloat32("missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReadFloat32_F64AndF16OverSeveralChunks_ConvertsEveryValue()
    {
        string path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            const int n = 300_001; // F64: 2.4 MB, F16: 0.6 MB; conversion runs a megabyte at a time
            string header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[" + n + "],\"data_offsets\":[0," + 8 * n + "]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[" + n + "],\"data_offsets\":[" + 8 * n + "," + 10 * n + "]}}";
            var json = System.Text.Encoding.UTF8.GetBytes(header);
            var bytes = new byte[8 + json.Length + 10 * n];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
            json.CopyTo(bytes, 8);
            int d = 8 + json.Length;
            for (int i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(d + 8 * i), i * 0.5);
                BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(d + 8 * n + 2 * i), (Half)(i % 2048));
            }
            File.WriteAllBytes(path, bytes);

            var file = SafetensorsFile.Open(path);
            Assert.Equal(Enumerable.Range(0, n).Select(i => (float)(i * 0.5)), file.ReadFloat32("d"));
            Assert.Equal(Enumerable.Range(0, n).Select(i => (float)(i % 2048)), file.ReadFloat32("h"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
