namespace TokenSpace.IO;

/// <summary>
/// Writes files so that a crash never leaves a half-written one: the content goes to a temporary
/// file beside the target, is flushed to disk, then renamed over the target in one step.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; the old file (if any) stays intact until the rename.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark), atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => s.Write(new System.Text.UTF8Encoding(false).GetBytes(text)));
}
