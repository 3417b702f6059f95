namespace TokenSpace.IO;

/// <summary>
/// Writes files so that a crash never leaves a half-written one: the content goes to a temporary
/// file beside the target, is flushed to disk, then renamed over the target in one step.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; the old file (if any) stays intact until the
    /// rename.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            AtomicDirectory.Step?.Invoke("write " + full);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            AtomicDirectory.Step?.Invoke("rename " + full);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Deletes the temporary files writes into <paramref name="dir"/> left when the process died mid-write. Only for a
    /// folder no one else is writing to (the caller holds its lock): a live write's temporary looks the same.
    /// </summary>
    public static void DeleteLeftovers(string dir)
    {
        if (!Directory.Exists(dir)) return;
        foreach (string path in Directory.EnumerateFiles(dir,
            ".*.tmp").Where(p => Leftover().IsMatch(Path.GetFileName(p)))) File.Delete(path);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\..+\.\d+\.[0-9a-f]{32}\.tmp$")]
    private static partial System.Text.RegularExpressions.Regex Leftover();

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark), atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => s.Write(new System.Text.UTF8Encoding(false).GetBytes(text)));
}
