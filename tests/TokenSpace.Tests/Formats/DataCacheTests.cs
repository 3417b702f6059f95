using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using TokenSpace.Formats;
using TokenSpace.IO;

namespace TokenSpace.Tests.Formats;

/// <summary>
/// Downloads against a loopback HTTP server that serves one small file well or badly (truncated, other
/// bytes, 404, trickling, stalled), and imports of local copies; all inside the test cache. Process-wide
/// because <see cref="DataCache.IdleTimeout"/> is.
/// </summary>
[Collection(ProcessWideState.Name)]
public sealed class DataCacheTests : IDisposable
{
    static readonly byte[] Body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 4000).Select(i => $"line {i}\n")));
    static readonly string BodySha = Convert.ToHexStringLower(SHA256.HashData(Body));

    readonly TimeSpan savedIdle = DataCache.IdleTimeout;
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-datacache").FullName;

    public void Dispose()
    {
        DataCache.IdleTimeout = savedIdle;
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>Serves one request on 127.0.0.1 as <paramref name="respond"/> writes it to the socket; returns the URL.</summary>
    static string Serve(Action<NetworkStream> respond)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(() =>
        {
            try
            {
                using var client = listener.AcceptTcpClient();
                using var stream = client.GetStream();
                var request = new byte[4096];
                int read = 0;
                while (!Encoding.ASCII.GetString(request, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal)) read += stream.Read(request, read, request.Length - read);
                respond(stream);
            }
            catch (IOException)
            {
                // the client gave up first (the stalled case)
            }
            finally
            {
                listener.Stop();
            }
        });
        return $"http://127.0.0.1:{port}/file.txt";
    }

    static void Headers(NetworkStream stream, string status, long length)
    {
        stream.Write(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"));
    }

    static DataSet Set(string url, string? sha = null) =>
        new("test-" + Guid.NewGuid().ToString("N")[..8], "a test file", DataSource.Url, url, sha ?? BodySha, Body.Length, "none", "file.txt");

    [Fact]
    public void Fetch_GoodServer_VerifiesAndCaches()
    {
        var set = Set(Serve(s => { Headers(s, "200 OK", Body.Length); s.Write(Body); }));
        var seen = new List<long>();

        string path = DataCache.Fetch(set, (done, total) => { Assert.Equal(Body.Length, total); seen.Add(done); });

        Assert.Equal(Body, File.ReadAllBytes(path));
        Assert.True(DataCache.IsPresent(set));
        Assert.Equal(Body.Length, seen[^1]);
        Assert.Equal(path, DataCache.Fetch(set)); // present: no second request (the server is gone)
    }

    [Fact]
    public void Fetch_Truncated_SaysHowFarItGotAndCachesNothing()
    {
        var set = Set(Serve(s => { Headers(s, "200 OK", Body.Length); s.Write(Body, 0, 1000); }));
        var e = Assert.Throws<InvalidOperationException>(() => DataCache.Fetch(set));
        Assert.Contains("1,000 of 38,890 bytes", e.Message);
        Assert.False(DataCache.IsPresent(set));
        Assert.False(File.Exists(DataCache.PathOf(set)));
    }

    [Fact]
    public void Fetch_WrongBytes_ShaMismatchCachesNothing()
    {
        var set = Set(Serve(s => { Headers(s, "200 OK", Body.Length); s.Write(Body.Select(b => b == (byte)'1' ? (byte)'2' : b).ToArray()); }));
        var e = Assert.Throws<InvalidOperationException>(() => DataCache.Fetch(set));
        Assert.Contains($"does not match {set.Name}'s pinned {BodySha}", e.Message);
        Assert.False(DataCache.IsPresent(set));
    }

    [Fact]
    public void Fetch_WrongSizeOffered_RefusedBeforeDownloading()
    {
        var set = Set(Serve(s => { Headers(s, "200 OK", Body.Length + 5); s.Write(Body); s.Write("extra"u8); }));
        var e = Assert.Throws<InvalidOperationException>(() => DataCache.Fetch(set));
        Assert.Contains("the server offers 38,895 bytes, but", e.Message);
    }

    [Fact]
    public void Fetch_NotFound_NamesStatusAndUrl()
    {
        string url = Serve(s => { Headers(s, "404 Not Found", 0); });
        var e = Assert.Throws<InvalidOperationException>(() => DataCache.Fetch(Set(url)));
        Assert.Equal($"{url}: HTTP 404 Not Found; the source moved or is down", e.Message);
    }

    [Fact]
    public void Fetch_SlowButSteady_Completes()
    {
        DataCache.IdleTimeout = TimeSpan.FromSeconds(5);
        var set = Set(Serve(s =>
        {
            Headers(s, "200 OK", Body.Length);
            for (int at = 0; at < Body.Length; at += 8000)
            {
                s.Write(Body, at, Math.Min(8000, Body.Length - at));
                s.Flush();
                Thread.Sleep(60);
            }
        }));
        var seen = new List<long>();
        Assert.Equal(Body, File.ReadAllBytes(DataCache.Fetch(set, (done, _) => seen.Add(done))));
        Assert.True(seen.Count >= 5, $"progress reported {seen.Count} times");
    }

    [Fact]
    public void Fetch_Stalled_GivesUpAfterIdleTimeout()
    {
        DataCache.IdleTimeout = TimeSpan.FromMilliseconds(300);
        using var release = new ManualResetEventSlim();
        var set = Set(Serve(s => { Headers(s, "200 OK", Body.Length); s.Write(Body, 0, 100); s.Flush(); release.Wait(TimeSpan.FromSeconds(10)); }));
        var e = Assert.Throws<InvalidOperationException>(() => DataCache.Fetch(set));
        release.Set();
        Assert.Contains("no data for 0.3 s after 100 of 38,890 bytes", e.Message);
        Assert.False(DataCache.IsPresent(set));
    }

    [Fact]
    public void Add_GoodCopy_Imports_BadCopiesRefused()
    {
        var set = Set("http://127.0.0.1:9/unused");
        string good = Path.Combine(dir, "good.txt"), shorter = Path.Combine(dir, "short.txt"), other = Path.Combine(dir, "other.txt");
        File.WriteAllBytes(good, Body);
        File.WriteAllBytes(shorter, Body[..^1]);
        File.WriteAllBytes(other, [.. Body[..^1], (byte)'!']);

        Assert.Contains("38,889 bytes, but", Assert.Throws<InvalidOperationException>(() => DataCache.Add(set, shorter)).Message);
        Assert.Contains("does not match", Assert.Throws<InvalidOperationException>(() => DataCache.Add(set, other)).Message);
        Assert.False(DataCache.IsPresent(set));
        Assert.Equal(Body, File.ReadAllBytes(DataCache.Add(set, good)));
        Assert.True(DataCache.IsPresent(set));
    }

    [Fact]
    public void Add_SymbolicLinkToGoodCopy_Imports()
    {
        // A link's own size is the length of its target's path; the check must read the file it points at.
        var set = Set("http://127.0.0.1:9/unused");
        string good = Path.Combine(dir, "good.txt"), link = Path.Combine(dir, "link.txt");
        File.WriteAllBytes(good, Body);
        File.CreateSymbolicLink(link, good);
        Assert.Equal(Body, File.ReadAllBytes(DataCache.Add(set, link)));
    }

    [Fact]
    public void ResolveFile_NamesAndPaths_ResolvedOrExplained()
    {
        string file = Path.Combine(dir, "names");
        File.WriteAllText(file, "x\n");
        Assert.Equal(file, DataCache.ResolveFile(file)); // an existing file wins over a name
        Assert.Equal("no/such/file.txt", DataCache.ResolveFile("no/such/file.txt")); // not a name: the caller reports it
        string saved = DataCache.Root, wordsim = TestData.Dataset("wordsim353");
        try
        {
            Environment.SetEnvironmentVariable("TOKENSPACE_CACHE", Path.Combine(dir, "empty-cache"));
            var e = Assert.Throws<FileNotFoundException>(() => DataCache.ResolveFile("names"));
            Assert.Equal("'names' is a data set that is not in the cache yet; run `tokenspace data fetch names` (or `tokenspace data add names FILE`)", e.Message);
            DataCache.Add(DataCache.Find("wordsim353")!, wordsim);
            Assert.Equal(Path.Combine(dir, "empty-cache", "wordsim353", "wordsim353.tsv"), DataCache.ResolveFile("wordsim353"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("TOKENSPACE_CACHE", saved);
        }
    }

    [Fact]
    public void Sets_Table_IsComplete()
    {
        Assert.Equal(["names", "tinyshakespeare", "questions-words", "wordsim353", "glove-100d", "gpt2-bpe"], DataCache.Sets.Select(s => s.Name));
        Assert.All(DataCache.Sets, s =>
        {
            Assert.Matches("^[0-9a-f]{64}$", s.Sha256);
            Assert.True(s.Bytes > 0 && s.Licence.Length > 0 && s.Description.Length > 0);
            Assert.True(s.Source == DataSource.Npm ? s.Location.Contains('@') : s.Location.StartsWith("https://", StringComparison.Ordinal));
        });
    }
}
