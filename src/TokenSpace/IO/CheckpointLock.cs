namespace TokenSpace.IO;

/// <summary>
/// The one writer of a checkpoint directory: <c>DIR/.lock</c> held open with an exclusive OS lock (<c>flock</c> on
/// Linux and macOS, a share-none handle on Windows) until disposed. The OS drops the lock when the process ends,
/// however it ends, so a crash never leaves a stale lock behind; the empty file stays.
/// </summary>
/// <example>
/// <code>
/// using (CheckpointLock.Acquire("out/run")) trainer.Save("out/run"); // a second writer fails at once
/// </code>
/// </example>
public sealed class CheckpointLock : IDisposable
{
    /// <summary>The lock file's name inside the directory.</summary>
    public const string FileName = ".lock";

    readonly FileStream stream;

    CheckpointLock(FileStream stream) => this.stream = stream;

    /// <summary>Locks <paramref name="dir"/> (creating it), or fails at once when another writer holds it.</summary>
    /// <exception cref="IOException">Another process (or another writer in this one) holds the lock.</exception>
    public static CheckpointLock Acquire(string dir) => TryAcquire(dir) ?? throw new IOException(
        $"{dir} is being written by another process (it holds {Path.Combine(dir, FileName)}); wait for it to finish, or choose another " +
            "directory");

    /// <summary>Locks <paramref name="dir"/> (creating it), or returns null when another writer holds it.</summary>
    public static CheckpointLock? TryAcquire(string dir)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, FileName);
        try
        {
            return new CheckpointLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Opening an existing file fails with an IOException only for a sharing violation (no permission is an
            // UnauthorizedAccessException): another writer holds it.
            return null;
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => stream.Dispose();
}
