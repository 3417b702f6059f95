using System.Text;
using TokenSpace.Formats;
using TokenSpace.Tokenization;

namespace TokenSpace.Tests.Tokenization;

public sealed class Utf8TextTests : IDisposable
{
    readonly string path = Path.Combine(Path.GetTempPath(), $"utf8-{Guid.NewGuid():N}.txt");

    public void Dispose() => File.Delete(path);

    [Fact]
    public void ReadAll_InvalidByte_ErrorNamesItsOffset()
    {
        File.WriteAllBytes(path, [.. "café\n"u8, 0xFF, .. "x"u8]);
        var e = Assert.Throws<FileFormatException>(() => Utf8Text.ReadAll(path));
        Assert.Equal(6, e.ByteOffset);
        Assert.StartsWith($"{path}: byte 6: invalid UTF-8", e.Message);
        Assert.Equal(6, Assert.Throws<FileFormatException>(() => Utf8Text.Check(path)).ByteOffset);
        Assert.Equal("café\n\uFFFDx", Utf8Text.ReadAll(path, replaceInvalid: true));
    }

    [Fact]
    public void ReadAll_ByteOrderMarkAndValidText_ReadLikeReadAllText()
    {
        File.WriteAllText(path, "naïve 日本 😀\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal("naïve 日本 😀\n", Utf8Text.ReadAll(path));
        Utf8Text.Check(path);
    }

    [Theory]
    [InlineData(1 << 20)] // a 4-byte sequence cut by the first piece's end, then valid
    [InlineData((1 << 20) - 2)]
    public void Check_SequencesAcrossPieces_ValidAndInvalidFoundAtTheirOffsets(int at)
    {
        var bytes = new byte[(1 << 21) + 10];
        bytes.AsSpan().Fill((byte)'a');
        "😀"u8.CopyTo(bytes.AsSpan(at - 1));
        File.WriteAllBytes(path, bytes);
        Utf8Text.Check(path);

        bytes[(1 << 21) + 3] = 0xC3; // a lead byte followed by 'a'
        File.WriteAllBytes(path, bytes);
        Assert.Equal((1 << 21) + 3, Assert.Throws<FileFormatException>(() => Utf8Text.Check(path)).ByteOffset);
        Assert.Equal((1 << 21) + 3, Assert.Throws<FileFormatException>(() => Utf8Text.ReadAll(path)).ByteOffset);
    }

    [Fact]
    public void Check_TruncatedSequenceAtTheEnd_Error()
    {
        File.WriteAllBytes(path, [.. "ab"u8, 0xE6, 0x97]);
        Assert.Equal(2, Assert.Throws<FileFormatException>(() => Utf8Text.Check(path)).ByteOffset);
    }
}
