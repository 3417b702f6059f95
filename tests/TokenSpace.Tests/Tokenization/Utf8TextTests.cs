using System.Text;
using TokenSpace.IO;
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
    [InlineData(1 << 20)] // a 4-byte sequence cut by a piece's end, then valid
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

    [Fact]
    public void ReadPieces_BomSequencesAndInvalidBytesAcrossPieces_SameTextAsReadAll()
    {
        // A byte-order mark, then text whose multi-byte characters and an invalid byte fall on piece boundaries (every 64 KiB).
        var text = new StringBuilder("\uFEFF");
        while (text.Length < 3_200_000) text.Append("ab é 日本 😀\n");
        var bytes = Encoding.UTF8.GetBytes(text.ToString()).ToList();
        bytes.Insert((1 << 20) * 2 - 1, 0xFF);
        File.WriteAllBytes(path, [.. bytes]);
        foreach (bool replace in new[] { true, false })
        {
            var pieces = new StringBuilder();
            var read = () => Utf8Text.ReadPieces(path, replace, piece => pieces.Append(piece));
            if (replace)
            {
                read();
                Assert.Equal(Utf8Text.ReadAll(path, replaceInvalid: true), pieces.ToString());
            }
            else
            {
                Assert.Equal(Assert.Throws<FileFormatException>(() => Utf8Text.ReadAll(path)).ByteOffset,
                    Assert.Throws<FileFormatException>(read).ByteOffset);
            }
        }
        bytes.RemoveAt((1 << 20) * 2 - 1);
        File.WriteAllBytes(path, [.. bytes]);
        var valid = new StringBuilder();
        Utf8Text.ReadPieces(path, replaceInvalid: false, piece => valid.Append(piece));
        Assert.Equal(Utf8Text.ReadAll(path), valid.ToString());
    }
}
