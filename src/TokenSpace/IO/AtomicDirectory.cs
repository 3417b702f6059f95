namespace TokenSpace.IO;

/// <summary>
/// Replaces a set of files inside a directory so that a crash at any moment leaves the old set or the new one, never
/// a mix once recovered, and never moves the directory itself (its lock file and other entries, such as
/// <c>snapshots/</c>, stay where they are). A save writes the new files into <c>DIR/.tmp-GUID/</c> with a manifest of
/// their names, renames that folder to <c>DIR/.commit</c> (the moment the new set is complete), renames each file
/// over its old copy, deletes the files of the set the new one lacks, and removes <c>.commit</c>.
/// <see cref="Recover"/> finishes a commit a crash interrupted (every step can be repeated) and deletes unfinished
/// <c>.tmp-*</c> folders; the next save runs it first, so leftovers never pile up.
/// </summary>
public static class AtomicDirectory
{
    const string StagingPrefix = ".tmp-", CommitName = ".commit", ManifestName = ".files";

    /// <summary>
    /// Test hook: told the name of each step of a save or recovery as it is about to happen (<c>"commit"</c>, <c>"move
    /// model.safetensors"</c>, …), and of each file write (see <see cref="AtomicFile"/>), so crash tests can stop a
    /// save at every one. The environment variable <c>TOKENSPACE_CRASH_AT=N</c> kills the process at the N-th step
    /// (counted from 1), which is how the tests crash a real <c>tokenspace</c> process.
    /// </summary>
    internal static Action<string>? Step = Environment.GetEnvironmentVariable("TOKENSPACE_CRASH_AT") is { } at
        && int.TryParse(at, out int n)
        ? KillAt(n)
        : null;

    static Action<string> KillAt(int n)
    {
        int count = 0;
        return _ =>
        {
            if (Interlocked.Increment(ref count) == n) System.Diagnostics.Process.GetCurrentProcess().Kill();
        };
    }

    /// <summary>
    /// Replaces the files of <paramref name="owned"/> in <paramref name="dir"/> (created if missing) by those
    /// <paramref name="write"/> puts into the folder it is given; files of <paramref name="owned"/> it does not write
    /// are deleted, anything else in <paramref name="dir"/> is left alone. The caller holds the directory's lock.
    /// </summary>
    public static void Write(string dir, IReadOnlyCollection<string> owned, Action<string> write)
    {
        Directory.CreateDirectory(dir);
        Recover(dir, owned);
        string staging = Path.Combine(dir, StagingPrefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        write(staging);
        var names = Directory.EnumerateFiles(staging).Select(Path.GetFileName).ToList();
        AtomicFile.WriteAllText(Path.Combine(staging, ManifestName), string.Join('\n', names) + "\n");
        Step?.Invoke("commit");
        Directory.Move(staging, Path.Combine(dir, CommitName));
        Finish(dir, owned);
    }

    /// <summary>
    /// Finishes a save a crash interrupted in <paramref name="dir"/> and deletes unfinished ones; true when there was
    /// anything to do. The caller holds the directory's lock (or knows no one writes there).
    /// </summary>
    public static bool Recover(string dir, IReadOnlyCollection<string> owned)
    {
        if (!NeedsRecovery(dir)) return false;
        foreach (string staging in Directory.EnumerateDirectories(dir, StagingPrefix + "*"))
        {
            Step?.Invoke("delete " + Path.GetFileName(staging));
            Directory.Delete(staging, recursive: true);
        }
        if (Directory.Exists(Path.Combine(dir, CommitName))) Finish(dir, owned);
        return true;
    }

    /// <summary>Whether <paramref name="dir"/> holds an interrupted save (a cheap check: two directory lookups).</summary>
    public static bool NeedsRecovery(string dir) =>
        Directory.Exists(dir) && (Directory.Exists(Path.Combine(dir, CommitName))
            || Directory.EnumerateDirectories(dir, StagingPrefix + "*").Any());

    static void Finish(string dir, IReadOnlyCollection<string> owned)
    {
        string commit = Path.Combine(dir, CommitName), manifest = Path.Combine(commit, ManifestName);
        if (File.Exists(manifest))
        {
            // Names are bare file names this class wrote; anything else (a hand-made .commit) is not followed.
            var names = File.ReadAllLines(manifest).Where(n => n.Length > 0 && Path.GetFileName(n) == n
                && n is not ("." or "..")).ToHashSet();
            foreach (string name in names)
            {
                string from = Path.Combine(commit, name);
                if (!File.Exists(from)) continue; // moved before the crash
                Step?.Invoke("move " + name);
                File.Move(from, Path.Combine(dir, name), overwrite: true);
            }
            foreach (string name in owned.Where(n => !names.Contains(n) && File.Exists(Path.Combine(dir, n))))
            {
                Step?.Invoke("delete " + name);
                File.Delete(Path.Combine(dir, name));
            }
            Step?.Invoke("delete manifest");
            File.Delete(manifest);
        }
        Step?.Invoke("delete " + CommitName);
        Directory.Delete(commit, recursive: true);
    }
}
