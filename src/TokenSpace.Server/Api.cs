using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using TokenSpace.Training;
using TokenSpace.Vectors;

namespace TokenSpace.Server;

/// <summary>
/// The JSON API under <c>/api/</c>, all GET. Each handler checks its parameters (<see cref="Bounds"/>) and
/// makes the library call the CLI makes for the same question; the library knows nothing of HTTP.
/// </summary>
static class Api
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/spaces", Spaces).WithSummary("The loaded spaces");
        api.MapGet("/keys", Keys).WithSummary("Keys by prefix (autocomplete), or close spellings of an unknown key");
        api.MapGet("/neighbors", Neighbors).WithSummary("Nearest neighbours of a word, of positive/negative words, or of a vector: an " +
            "item of `neighbors --json`");
        api.MapGet("/analogy", Analogy).WithSummary("a : b :: c : ? by 3CosAdd or 3CosMul: exactly `analogy --json`");
        api.MapGet("/projection", Projection)
            .WithSummary("PCA (2-D or 3-D) or t-SNE map of the first N keys, listed words, or a word's neighbourhood; stream=1 streams " +
                "t-SNE as Server-Sent Events");
        api.MapGet("/export", Export).WithSummary("The map of a projection (same parameters) as an SVG file, coloured by a metadata " +
            "column");
        api.MapGet("/axes", Axes).WithSummary("Points placed by their projection on the directions x=A,B and y=C,D");
        SnapshotsApi.Map(api);
        api.Map("/{**rest}", Unknown).ExcludeFromDescription();
    }

    /// <summary>Any other path or method under /api/.</summary>
    static ProblemHttpResult Unknown(HttpContext context, string rest) => HttpMethods.IsGet(context.Request.Method)
        ? TypedResults.Problem($"there is no API endpoint /api/{(rest.Length <= 40 ? rest : rest[..40])}; see /openapi/v1.json",
            statusCode: StatusCodes.Status404NotFound, title: "Not Found")
        : TypedResults.Problem($"the API answers GET only, not {context.Request.Method}", statusCode: StatusCodes.Status405MethodNotAllowed,
            title: "Method Not Allowed");

    static IEnumerable<SpaceInfo> Spaces(Catalog catalog) =>
        catalog.All.Select(s => new SpaceInfo(s.Name, s.Vectors.Count, s.Vectors.Dimensions, s.Source, catalog.Metadata?.Columns ?? [],
            s.RunDirectory is not null && Snapshots.List(s.RunDirectory).Count > 0, s.Vectors.Index is not null));

    static KeysResult Keys(Catalog catalog,
        [Description("A loaded space's name (default: the first)")] string? space,
        [Description("Keys starting with this (ignoring case), most frequent first")] string? prefix,
        [Description("A key that may not exist: its close spellings (case variants, up to two edits)")] string? near,
        [Description("Most keys to return, 1–1000 (default 20)")] string? limit)
    {
        var s = catalog.Get(space);
        Bounds.AtMostOne(("prefix", prefix is not null), ("near", near is not null));
        int most = Bounds.Int(limit, "limit", 20, 1, Bounds.MaxK);
        if (Bounds.Key(near, "near") is { } key) return new KeysResult(s.Vectors.SuggestKeys(key, most));
        if (prefix is { Length: > Bounds.MaxKeyLength }) throw new ApiException("prefix",
            $"prefix is {prefix.Length} characters long; keys are at most {Bounds.MaxKeyLength}");
        return new KeysResult(s.Vectors.KeysWithPrefix(prefix ?? "", most));
    }

    static async Task<NeighborsResult> Neighbors(Catalog catalog,
        [Description("A loaded space's name (default: the first)")] string? space,
        [Description("The key whose neighbours to list (left out of them)")] string? word,
        [Description("Comma-separated keys to add (with negative: 3CosAdd's mean); at most 100")] string? positive,
        [Description("Comma-separated keys to subtract; at most 100")] string? negative,
        [Description("Comma-separated floats, one per dimension: neighbours of this vector")] string? vector,
        [Description("Neighbours to return, 1–1000 (default 10)")] string? k,
        [Description("cosine (default: similarity) or euclidean (distance of the raw vectors; with word or vector)")] string? metric,
        [Description("1: search every row even when the space has an approximate index (whose answers cosine queries get by default)")]
        string? exact)
    {
        var s = catalog.Get(space);
        var kv = s.Vectors;
        int top = Bounds.Int(k, "k", 10, 1, Bounds.MaxK);
        string how = Bounds.Choice(metric, "metric", "cosine", "euclidean");
        // As `neighbors --approx`: the index answers cosine queries; Euclidean ones always scan.
        bool approximate = kv.Index is not null && Bounds.Int(exact, "exact", 0, 0, 1) == 0;
        Bounds.AtMostOne(("word", word is not null), ("positive", positive is not null), ("vector", vector is not null));
        if (negative is not null && positive is null) throw new ApiException("negative",
            "negative goes with positive=a,b (the keys to add)");
        if (Bounds.Key(word, "word") is { } w)
        {
            Catalog.Row(s, w, "word");
            return how == "cosine"
                ? new NeighborsResult(w, Cosine(await MostSimilar(catalog, s, [w], [], top, approximate)))
                : new NeighborsResult(w, Euclidean(kv.ClosestByDistance(w, top)));
        }
        if (vector is not null)
        {
            var v = Bounds.Floats(vector, "vector", kv.Dimensions);
            return new NeighborsResult("vector", how == "cosine"
                ? Cosine(kv.SimilarByVector(v, top, approximate: approximate))
                : Euclidean(kv.ClosestByDistance(v, top)));
        }
        if (positive is null) throw new ApiException("word", "give word=KEY, positive=a,b[&negative=c] or vector=x1,x2,…");
        if (how != "cosine") throw new ApiException("metric",
            "metric=euclidean takes word= or vector=; positive/negative are a cosine query");
        string[] plus = Bounds.Keys(positive, "positive", kv), minus = Bounds.Keys(negative, "negative", kv);
        if (plus.Length == 0) throw new ApiException("positive", "positive lists no key");
        foreach (string key in plus) Catalog.Row(s, key, "positive");
        foreach (string key in minus) Catalog.Row(s, key, "negative");
        string query = string.Join(" + ", plus) + string.Concat(minus.Select(m => $" - {m}"));
        return new NeighborsResult(query, Cosine(await MostSimilar(catalog, s, plus, minus, top, approximate)));
    }

    /// <summary>
    /// Cosine neighbours: exact ones through the space's batcher (one scan serves the queries that arrive together); approximate
    /// ones from the index, one search each (a graph walk's answer depends on how many it is asked for, so they are not batched).
    /// </summary>
    static Task<IReadOnlyList<Neighbor>> MostSimilar(Catalog catalog, Space space, string[] positive, string[] negative, int k,
        bool approximate) =>
        approximate
            ? Task.FromResult(space.Vectors.MostSimilar(positive, negative, k, approximate: true))
            : catalog.Neighbors(space).MostSimilar(positive, negative, k);

    static AnalogyResult Analogy(Catalog catalog,
        [Description("A loaded space's name (default: the first)")] string? space,
        [Description("A in A : B :: C : ?")] string? a,
        [Description("B in A : B :: C : ?")] string? b,
        [Description("C in A : B :: C : ?")] string? c,
        [Description("add (3CosAdd: b − a + c, default) or cosmul (3CosMul)")] string? method,
        [Description("Candidates to return, 1–1000 (default 5)")] string? k)
    {
        var s = catalog.Get(space);
        string wa = Required(s, a, "a"), wb = Required(s, b, "b"), wc = Required(s, c, "c");
        string how = Bounds.Choice(method, "method", "add", "cosmul");
        int top = Bounds.Int(k, "k", 5, 1, Bounds.MaxK);
        var found = how == "cosmul" ? s.Vectors.MostSimilarCosMul([wb, wc], [wa], top) : s.Vectors.MostSimilar([wb, wc], [wa], top);
        return new AnalogyResult(wa, wb, wc, how, found.Count > 0 ? found[0].Key : null,
            found.Select(n => new Candidate(n.Key, n.Similarity)).ToList());
    }

    static async Task<IResult> Projection(Projections projections, HttpContext context, [AsParameters] ProjectionQuery query,
        [Description("1: stream t-SNE as Server-Sent Events (frame events, then one result event)")] string? stream)
    {
        var request = projections.Parse(query);
        if (Bounds.Int(stream, "stream", 0, 0, 1) == 1)
        {
            if (request.Method != "tsne") throw new ApiException("stream", "stream=1 streams t-SNE; PCA answers at once");
            return TypedResults.ServerSentEvents(projections.Stream(request, context.RequestAborted));
        }
        return TypedResults.Ok(await projections.ComputeAsync(request, null, context.RequestAborted));
    }

    /// <summary>The map of a projection as an SVG file drawn by the library's <see cref="Plotting.ScatterPlot"/> (x and y; a 3-D map's z is
    /// left out).</summary>
    static async Task<IResult> Export(Projections projections, Catalog catalog, HttpContext context, [AsParameters] ProjectionQuery query,
        [Description("Metadata column to colour the points by")] string? color,
        [Description("0: draw no labels (default 1: labels that do not overlap)")] string? labels)
    {
        var request = projections.Parse(query);
        int column = -1;
        if (color is not null && (catalog.Metadata is not { } metadata || (column = metadata.IndexOf(color)) < 0))
        {
            throw new ApiException("color",
                $"no metadata column '{(color.Length <= 40 ? color : color[..40])}'; columns: " +
                $"{string.Join(", ", catalog.Metadata?.Columns ?? [])}");
        }
        bool drawLabels = Bounds.Int(labels, "labels", 1, 0, 1) == 1;
        var result = await projections.ComputeAsync(request, null, context.RequestAborted);
        var xy = result.Points.SelectMany(p => new[] { p.X, p.Y }).ToArray();
        var map = Plotting.ScatterPlot.Render(request.Keys, xy, new Plotting.ScatterOptions
        {
            Title = $"{request.Space.Name} · {(result.Method == "pca" ? "PCA" : "t-SNE")}",
            Subtitle = $"{request.Keys.Length:N0} points",
            Labels = drawLabels,
            Groups = column < 0 ? null : result.Points.Select(p => p.Meta?[column]).ToArray(),
        });
        return TypedResults.File(System.Text.Encoding.UTF8.GetBytes(map.Svg), "image/svg+xml", $"{request.Space.Name}-{result.Method}.svg");
    }

    static AxesResult Axes(Catalog catalog,
        [Description("A loaded space's name (default: the first)")] string? space,
        [Description("The horizontal axis: two keys A,B; x is the projection on the direction from A to B")] string? x,
        [Description("The vertical axis: two keys C,D")] string? y,
        [Description("Place the first N keys, 1–100,000 (default 1000); the axes' keys are always placed, marked")] string? top)
    {
        var s = catalog.Get(space);
        var (ax, ay) = (AxisOf(s, x, "x"), AxisOf(s, y, "y"));
        int first = Math.Min(s.Vectors.Count, Bounds.Int(top, "top", 1000, 1, Bounds.MaxTop));
        string[] ends = [ax.From, ax.To, ay.From, ay.To];
        var keys = s.Vectors.Keys.Take(first).Concat(ends.Where(e => s.Vectors.TryGetIndex(e) >= first).Distinct()).ToArray();
        var layout = s.Vectors.AxisCoordinates(keys, (ax.From, ax.To), (ay.From, ay.To));
        return new AxesResult(ax, ay, Projections.Points(keys, layout, 2, catalog, ends.ToHashSet()), catalog.Metadata?.Columns ?? []);
    }

    static Axis AxisOf(Space space, string? pair, string parameter)
    {
        string[] ends = Bounds.Keys(pair, parameter, space.Vectors, 2);
        if (ends.Length != 2 || ends[0] == ends[1]) throw new ApiException(parameter,
            $"{parameter} must name two different keys: {parameter}=A,B");
        foreach (string e in ends) Catalog.Row(space, e, parameter);
        return new Axis(ends[0], ends[1]);
    }

    static string Required(Space space, string? value, string parameter)
    {
        string key = Bounds.Key(value, parameter) ?? throw new ApiException(parameter, $"{parameter} is required");
        Catalog.Row(space, key, parameter);
        return key;
    }

    static List<NeighborItem> Cosine(IReadOnlyList<Neighbor> found) => found.Select(n => new NeighborItem(n.Key, n.Similarity)).ToList();

    static List<NeighborItem> Euclidean(IReadOnlyList<KeyDistance> found) =>
        found.Select(n => new NeighborItem(n.Key, null, n.Distance)).ToList();
}
