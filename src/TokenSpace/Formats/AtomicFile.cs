namespace TokenSpace.Formats;

/// <summary>Writes a file so that a crash leaves either the old file or the complete new one: temporary file beside it, flush to disk, rename.</summary>
static class AtomicFile
{
    /// <summary>Creates <paramref name="path"/> (replacing it) from what <paramref name="write"/> puts in the stream.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
