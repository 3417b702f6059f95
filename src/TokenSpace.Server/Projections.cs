using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using TokenSpace.Projection;
using TokenSpace.Vectors;

namespace TokenSpace.Server;

/// <summary>
/// <c>/api/projection</c>: the chosen rows of a space mapped by PCA, t-SNE or UMAP with the library's
/// <see cref="Pca"/>, <see cref="Tsne"/> and <see cref="Umap"/>, as <c>tokenspace map</c> maps them. At most
/// <see cref="Concurrent"/> projections compute at once; the others wait (and give up when their client leaves).
/// </summary>
sealed class Projections(Catalog catalog) : IDisposable
{
    /// <summary>Most points t-SNE maps: its exact neighbour search is O(n²) (20,000 points take tens of seconds on 2 cores).</summary>
    public const int MaxTsnePoints = 20_000;

    /// <summary>Most points UMAP maps: its exact neighbour search is O(n²) too.</summary>
    public const int MaxUmapPoints = 20_000;

    /// <summary>Most t-SNE iterations (or UMAP epochs) a request may ask for.</summary>
    public const int MaxIterations = 5_000;

    /// <summary>Least time between two frames of a stream, so a large map does not flood the client.</summary>
    static readonly TimeSpan FrameInterval = TimeSpan.FromMilliseconds(200);

    static readonly int Concurrent = Math.Max(1, Environment.ProcessorCount / 2);

    readonly SemaphoreSlim slots = new(Concurrent);
    int active, waiting;

    /// <summary>Projections computing now (not those waiting for a slot).</summary>
    public int Active => Volatile.Read(ref active);

    /// <summary>Projections waiting for a slot.</summary>
    public int Waiting => Volatile.Read(ref waiting);

    /// <summary>A checked projection request: the rows to map and how.</summary>
    public sealed record Request(Space Space, string Method, int Dimensions, string[] Keys, float[] Matrix, TsneOptions? Tsne,
        HashSet<string> Marked, UmapOptions? Umap = null);

    /// <summary>Reads and checks the parameters of a projection (shared by <c>/api/projection</c> and <c>/api/export</c>).</summary>
    public Request Parse(ProjectionQuery query)
    {
        var s = catalog.Get(query.Space);
        string how = Bounds.Choice(query.Method, "method", "pca", "tsne", "umap");
        int dimensions = Bounds.Int(query.Dims, "dims", 2, 2, 3);
        if (how == "umap" && dimensions == 3) throw new ApiException("dims", "umap maps to 2-D only; use method=pca or tsne for 3-D");
        var (keys, marked) = Select(s, query.Top, query.Words, query.Around, query.K);
        int n = keys.Length;
        if (n < 3)
        {
            throw new ApiException(query.Words is not null ? "words" : query.Around is not null ? "k" : "top",
                $"a map needs at least 3 points, got {n}");
        }
        if (how == "tsne" && n > MaxTsnePoints) throw new ApiException("top",
            $"t-SNE maps at most {MaxTsnePoints:N0} points, asked for {n:N0}; use method=pca for more");
        if (how == "umap" && n > MaxUmapPoints)
        {
            throw new ApiException("top", $"UMAP maps at most {MaxUmapPoints:N0} points, asked for {n:N0}; use method=pca for more");
        }
        UmapOptions? umap = null;
        if (how == "umap")
        {
            double minDist = Bounds.Double(query.MinDist, "min_dist", -1, 0.99) ?? 0.1;
            if (minDist < 0) throw new ApiException("min_dist", $"min_dist must be at least 0, got {minDist}");
            umap = new UmapOptions
            {
                Neighbors = Bounds.Int(query.Neighbors, "neighbors", Math.Min(15, n), 2, n),
                MinDist = minDist,
                Epochs = Bounds.Int(query.Iterations, "iterations", 1, MaxIterations),
                Seed = (ulong)Bounds.Int(query.Seed, "seed", 0, 0, int.MaxValue),
            };
        }
        TsneOptions? tsne = null;
        if (how == "tsne")
        {
            double p = Bounds.Double(query.Perplexity, "perplexity", 0, n - 1) ?? Math.Min(30, Math.Max(1, (n - 1) / 3.0));
            tsne = new TsneOptions
            {
                Perplexity = p,
                Dimensions = dimensions,
                MaxIter = Bounds.Int(query.Iterations, "iterations", 1000, 1, MaxIterations),
                Seed = (ulong)Bounds.Int(query.Seed, "seed", 0, 0, int.MaxValue),
            };
        }
        var kv = s.Vectors;
        int d = kv.Dimensions;
        var matrix = new float[(long)n * d];
        for (int r = 0; r < n; r++) kv.GetVector(keys[r]).CopyTo(matrix.AsSpan(r * d, d));
        return new Request(s, how, dimensions, keys, matrix, tsne, marked, umap);
    }

    /// <summary>The keys to map: the first <c>top</c>, the listed <c>words</c>, or <c>around</c> a word and its <c>k</c>
    /// neighbours.</summary>
    static (string[] Keys, HashSet<string> Marked) Select(Space space, string? top, string? words, string? around, string? k)
    {
        Bounds.AtMostOne(("top", top is not null), ("words", words is not null), ("around", around is not null));
        if (k is not null && around is null) throw new ApiException("k", "k goes with around=WORD (the word's k nearest neighbours)");
        var kv = space.Vectors;
        if (words is not null)
        {
            string[] list = Bounds.Keys(words, "words", kv);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string w in list)
            {
                if (!seen.Add(w)) throw new ApiException("words", $"words: '{w}' is listed twice; give each word once");
                Catalog.Row(space, w, "words");
            }
            return (list, []);
        }
        if (Bounds.Key(around, "around") is { } centre)
        {
            Catalog.Row(space, centre, "around");
            int count = Bounds.Int(k, "k", 100, 2, Bounds.MaxK);
            var neighbours = kv.MostSimilar(centre, count);
            return ([centre, .. neighbours.Select(n => n.Key)], [centre]);
        }
        if (top is null) throw new ApiException("top", "choose the points: top=N (the first N keys), words=a,b,… or around=WORD&k=N");
        int first = Math.Min(kv.Count, Bounds.Int(top, "top", 1, Bounds.MaxTop)!.Value);
        return (kv.Keys.Take(first).ToArray(), []);
    }

    /// <summary>Computes the map, waiting for a free slot first.</summary>
    /// <exception cref="OperationCanceledException">The client left.</exception>
    public async Task<ProjectionResult> ComputeAsync(Request request, TsneProgress? progress, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref waiting);
        try
        {
            await slots.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
        try
        {
            // A thread of its own: a t-SNE computes for seconds, and on two cores a thread-pool thread held that long
            // starves the requests (the pool starts with one thread a core and adds more only slowly).
            return await Task.Factory.StartNew(() =>
            {
                Interlocked.Increment(ref active);
                try
                {
                    return Compute(request, progress, cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref active);
                }
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>
    /// The t-SNE of <paramref name="request"/> as Server-Sent Events: one <c>start</c> event at once (<see cref="ProjectionStart"/>:
    /// the headers reach the client before the computation even has a slot), <c>frame</c> events (<see cref="ProjectionFrame"/>)
    /// while it converges, at most one per <see cref="FrameInterval"/> (a slow client gets the newest), then one
    /// <c>result</c> event (<see cref="ProjectionResult"/>). A client that disconnects cancels the computation, or its wait for a slot.
    /// </summary>
    public async IAsyncEnumerable<SseItem<object>> Stream(Request request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var frames = Channel.CreateBounded<ProjectionFrame>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        int total = request.Tsne?.MaxIter ?? 1;
        void OnIteration(int iteration, ReadOnlySpan<double> layout)
        {
            if (clock.Elapsed - last < FrameInterval) return;
            last = clock.Elapsed;
            frames.Writer.TryWrite(new ProjectionFrame(iteration, total, Points(request, layout, request.Dimensions, withMeta: false)));
        }
        yield return new SseItem<object>(new ProjectionStart(request.Keys.Length, total), "start");
        var work = ComputeAsync(request, OnIteration, cancellationToken);
        _ = work.ContinueWith(_ => frames.Writer.Complete(), TaskScheduler.Default);
        await foreach (var frame in frames.Reader.ReadAllAsync(cancellationToken)) yield return new SseItem<object>(frame, "frame");
        yield return new SseItem<object>(await work, "result");
    }

    ProjectionResult Compute(Request request, TsneProgress? progress, CancellationToken cancellationToken)
    {
        int n = request.Keys.Length, d = request.Space.Vectors.Dimensions;
        var columns = catalog.Metadata?.Columns ?? [];
        if (request.Method == "pca")
        {
            var pca = Pca.Fit(request.Matrix, n, d, request.Dimensions);
            return new ProjectionResult("pca", request.Dimensions, Points(request, pca.Coordinates, request.Dimensions, withMeta: true),
                columns,
                ExplainedVariance: pca.ExplainedVarianceRatio);
        }
        if (request.Method == "umap")
        {
            var umap = Umap.Fit(request.Matrix, n, d, request.Umap, cancellationToken: cancellationToken);
            return new ProjectionResult("umap", 2, Points(request, umap.Coordinates, 2, withMeta: true), columns, Iterations: umap.Epochs);
        }
        var tsne = Tsne.Fit(request.Matrix, n, d, request.Tsne, progress, cancellationToken);
        return new ProjectionResult("tsne", request.Dimensions, Points(request, tsne.Coordinates, request.Dimensions, withMeta: true),
            columns, KlDivergence: tsne.KlDivergence, Iterations: tsne.Iterations);
    }

    /// <summary>The points of a layout <c>(n, dims)</c>, with each key's metadata when asked and there is some.</summary>
    public MapPoint[] Points(Request request, ReadOnlySpan<double> layout, int dims, bool withMeta) =>
        Points(request.Keys, layout, dims, withMeta ? catalog : null, request.Marked);

    /// <summary>The points of keys laid out in <paramref name="layout"/> <c>(n, dims)</c>.</summary>
    public static MapPoint[] Points(IReadOnlyList<string> keys, ReadOnlySpan<double> layout, int dims, Catalog? metadataFrom,
        IReadOnlySet<string> marked)
    {
        var metadata = metadataFrom?.Metadata;
        var points = new MapPoint[keys.Count];
        for (int i = 0; i < points.Length; i++)
        {
            IReadOnlyList<string?>? meta = metadata is null ? null : (IReadOnlyList<string?>?)metadata.Of(keys[i])
                ?? new string?[metadata.Columns.Count];
            points[i] = new MapPoint(keys[i], layout[dims * i], layout[dims * i + 1], dims == 3 ? layout[dims * i + 2] : null, meta,
                marked.Contains(keys[i]));
        }
        return points;
    }

    public void Dispose() => slots.Dispose();
}
