using TokenSpace.IO;

namespace TokenSpace.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void Write_WriterThrows_OldFileIntactAndNoTempLeft()
    {
        string dir = Directory.CreateTempSubdirectory("atomicfile").FullName;
        try
        {
            string path = Path.Combine(dir, "model.bin");
            AtomicFile.WriteAllText(path, "old content");
            Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
            {
                stream.Write("half-written new content"u8);
                throw new IOException("disk full");
            }));
            Assert.Equal("old content", File.ReadAllText(path));
            Assert.Equal([path], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Write_Succeeds_ReplacesContent()
    {
        string dir = Directory.CreateTempSubdirectory("atomicfile").FullName;
        try
        {
            string path = Path.Combine(dir, "a.txt");
            AtomicFile.WriteAllText(path, "one");
            AtomicFile.WriteAllText(path, "two");
            Assert.Equal("two", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
