using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using System.Text.Json.Serialization;

namespace TokenSpace.Server;

// The JSON documents of the API (property names in snake_case). Those of /api/neighbors and /api/analogy
// are exactly the CLI's `neighbors --json` result items and `analogy --json`; the tests hold both to that.

/// <summary>A loaded space: <c>/api/spaces</c> lists them.</summary>
/// <param name="Metadata">The <c>--metadata</c> columns (empty without metadata).</param>
/// <param name="Snapshots">Whether <c>/api/snapshots</c> has frames for it (a checkpoint trained with <c>--snapshot-every</c>).</param>
/// <param name="Approximate">Whether it has an approximate-neighbour index (<c>tokenspace index build</c>): cosine neighbours then come
/// from the index, as <c>neighbors --approx</c> finds them, unless a query asks <c>exact=1</c>.</param>
public sealed record SpaceInfo(string Name, int Count, int Dimensions, string Source, IReadOnlyList<string> Metadata, bool Snapshots,
    bool Approximate);

/// <summary><c>/api/keys</c>: keys by prefix, or close spellings of a key.</summary>
public sealed record KeysResult(IReadOnlyList<string> Keys);

/// <summary>One neighbour: <c>similarity</c> (cosine) or, with <c>metric=euclidean</c>, <c>distance</c>.</summary>
public sealed record NeighborItem(
    string Key,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] float? Similarity,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] float? Distance = null);

/// <summary><c>/api/neighbors</c>: one item of <c>neighbors --json</c>'s <c>results</c>.</summary>
/// <param name="Query">The word, <c>"a + b - c"</c> for positive/negative keys, or <c>"vector"</c>.</param>
public sealed record NeighborsResult(string Query, IReadOnlyList<NeighborItem> Neighbors);

/// <summary>An analogy candidate and its score (cosine of 3CosAdd, or the 3CosMul score).</summary>
public sealed record Candidate(string Key, float Score);

/// <summary><c>/api/analogy</c>: exactly <c>analogy --json</c>.</summary>
public sealed record AnalogyResult(string A, string B, string C, string Method, string? Answer, IReadOnlyList<Candidate> Candidates);

/// <summary>A mapped key; <c>z</c> only in 3-D, <c>meta</c> (one value per metadata column, null where the TSV lacks the key) only with
/// metadata.</summary>
public sealed record MapPoint(
    string Key,
    double X,
    double Y,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Z = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string?>? Meta = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Marked = false);

/// <summary>
/// <c>/api/projection</c>: the points and what the method reports (<c>explained_variance</c> for PCA,
/// <c>kl_divergence</c> and <c>iterations</c> for t-SNE).
/// </summary>
public sealed record ProjectionResult(
    string Method,
    int Dimensions,
    IReadOnlyList<MapPoint> Points,
    IReadOnlyList<string> Metadata,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<double>? ExplainedVariance = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? KlDivergence = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Iterations = null);

/// <summary>
/// The first event of a streamed t-SNE, sent at once: <c>points</c> to map in <c>total</c> iterations (the computation
/// may still wait for a slot).
/// </summary>
public sealed record ProjectionStart(int Points, int Total);

/// <summary>One event of a streamed t-SNE: the layout after <c>iteration</c> of <c>total</c>.</summary>
public sealed record ProjectionFrame(int Iteration, int Total, IReadOnlyList<MapPoint> Points);

/// <summary>An axis of <c>/api/axes</c>: from one key towards another.</summary>
public sealed record Axis(string From, string To);

/// <summary><c>/api/axes</c>: points placed by their projection on two directions; the axes' keys are marked.</summary>
public sealed record AxesResult(Axis X, Axis Y, IReadOnlyList<MapPoint> Points, IReadOnlyList<string> Metadata);

/// <summary>One frame of the training timeline.</summary>
/// <param name="Loss">The mean training loss of the steps before the frame when the run recorded it (not in the first frame), else
/// null.</param>
/// <param name="Formation">The frame's record of <c>snapshots/formation.jsonl</c> (neighbour overlap, settled share, norms, …) when the run
/// logged one.</param>
public sealed record SnapshotFrame(int Step, double? Loss, IReadOnlyList<MapPoint> Points,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Evaluation.FormationStep? Formation = null);

/// <summary><c>/api/snapshots</c>: the run's frames, each projected, aligned to the last.</summary>
public sealed record SnapshotsResult(string Method, IReadOnlyList<SnapshotFrame> Frames);

/// <summary>The parameters of <c>/api/projection</c> and <c>/api/export</c>: which points, mapped how.</summary>
public sealed record ProjectionQuery(
    [FromQuery(Name = "space")] [property: Description("A loaded space's name (default: the first)")] string? Space,
    [FromQuery(Name = "method")] [property: Description("pca (default), tsne or umap")] string? Method,
    [FromQuery(Name = "top")] [property: Description("Map the first N keys (most frequent first), 1–100,000 (t-SNE, UMAP: 20,000)")]
    string? Top,
    [FromQuery(Name = "words")] [property: Description("Comma-separated keys to map (at most 100)")] string? Words,
    [FromQuery(Name = "around")] [property: Description("Map this key and its k nearest neighbours")] string? Around,
    [FromQuery(Name = "k")] [property: Description("With around: neighbours to map, 2–1000 (default 100)")] string? K,
    [FromQuery(Name = "dims")] [property: Description("2 (default) or 3 (PCA and t-SNE): 3-D points carry z")] string? Dims,
    [FromQuery(Name = "neighbors")] [property: Description("UMAP neighbourhood, the point itself counted: 2 to the points (default 15)")]
    string? Neighbors,
    [FromQuery(Name = "min_dist")] [property: Description("UMAP min_dist, 0 to 0.99 (default 0.1)")] string? MinDist,
    [FromQuery(Name = "perplexity")]
    [property: Description("t-SNE perplexity (default 30, lowered to (n − 1) / 3 for few points)")] string? Perplexity,
    [FromQuery(Name = "iterations")] [property: Description("t-SNE iterations, 1–5000 (default 1000); UMAP epochs (default 500 or 200)")]
    string? Iterations,
    [FromQuery(Name = "seed")] [property: Description("t-SNE or UMAP seed (default 0)")] string? Seed);
