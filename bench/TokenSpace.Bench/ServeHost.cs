using TokenSpace.Formats;
using TokenSpace.Server;
using TokenSpace.Vectors;

namespace TokenSpace.Bench;

/// <summary>
/// The explorer the serve and web benches drive: <see cref="Explorer.RunAsync"/> (Kestrel, the API, the page's static
/// files) in this process, serving GloVe 100d from the data cache on a free loopback port. Disposing it stops the server.
/// </summary>
sealed class ServeHost : IDisposable
{
    /// <summary>The name of the one space served.</summary>
    public const string SpaceName = "glove-100d";

    readonly CancellationTokenSource stop = new();
    readonly Task server;

    ServeHost(KeyedVectors vectors)
    {
        Vectors = vectors;
        var options = new ExplorerOptions { Spaces = [new Space(SpaceName, SpaceName, vectors)], Port = 0 };
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server = Task.Run(() => Explorer.RunAsync(options, ready.SetResult, stop.Token));
        // A server that fails to start ends its task: surface its exception instead of waiting for an address.
        if (Task.WaitAny([ready.Task, server], TimeSpan.FromMinutes(2)) != 0)
        {
            server.GetAwaiter().GetResult();
            throw new InvalidOperationException("the explorer did not start listening within 2 minutes");
        }
        Url = ready.Task.Result;
    }

    /// <summary>The served vectors.</summary>
    public KeyedVectors Vectors { get; }

    /// <summary>The page's address, <c>http://127.0.0.1:PORT/</c>.</summary>
    public string Url { get; }

    /// <summary>Loads GloVe 100d and serves it; returns once the server accepts connections.</summary>
    public static ServeHost Start()
    {
        string glove = PretrainedVectors.Resolve(SpaceName) ?? throw new InvalidOperationException("glove-100d is not cached: tokenspace data fetch glove-100d");
        return new ServeHost(VectorsFile.Load(glove));
    }

    public void Dispose()
    {
        stop.Cancel();
        server.GetAwaiter().GetResult();
        stop.Dispose();
        Vectors.Dispose();
    }
}
