using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;
using TokenSpace.Projection;
using TokenSpace.Tensors;

namespace TokenSpace.Evaluation;

/// <summary>One saved moment of a training run: the embeddings as they were before step <paramref name="Step"/>.</summary>
/// <param name="Step">Optimizer steps taken when the frame was saved.</param>
/// <param name="Wte">Token embeddings, <c>(V, C)</c> row-major.</param>
/// <param name="Wpe">Learned position embeddings, <c>(T, C)</c> row-major; null when positions are not learned.</param>
/// <param name="Channels">C, the width of a row.</param>
/// <param name="Loss">The mean training loss of the steps since the previous frame, when known.</param>
public sealed record FormationFrame(int Step, float[] Wte, float[]? Wpe, int Channels, double? Loss = null);

/// <summary>How <see cref="Formation"/> measures; the defaults are the ones the CLI reports.</summary>
public sealed record FormationOptions
{
    /// <summary>Neighbours per row compared between frames (by cosine similarity).</summary>
    public int Neighbours { get; init; } = 10;

    /// <summary>A row has settled once its neighbour set stays at least this much equal to the final one.</summary>
    public double SettledOverlap { get; init; } = 0.8;

    /// <summary>Random pairs for the anisotropy; a matrix with fewer distinct pairs uses all of them.</summary>
    public int Pairs { get; init; } = 10_000;

    /// <summary>Seeds the anisotropy's pairs (the same pairs in every frame).</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Only the first this many rows are measured (token ids in order: a BPE vocabulary's bytes and commonest merges).</summary>
    public int MaxRows { get; init; } = 4096;
}

/// <summary>What one matrix (wte or wpe) looks like at one frame. Fields about other frames are null where there is none.</summary>
/// <param name="DisparityToPrevious">scipy.spatial.procrustes disparity to the frame before (0: the same shape up to rotation and
/// scale).</param>
/// <param name="DisparityToFinal">The same against the last frame; null while training still runs.</param>
/// <param name="OverlapWithPrevious">Mean share of each row's nearest neighbours that are also its neighbours in the frame before.</param>
/// <param name="OverlapWithFinal">Mean share of each row's nearest neighbours that are its neighbours in the last frame.</param>
/// <param name="Settled">Share of rows that have settled by this step (see <see cref="FormationOptions.SettledOverlap"/>).</param>
/// <param name="Silhouette">Mean silhouette (cosine distance) of the rows' groups; null without two groups.</param>
/// <param name="MeanNorm">Mean Euclidean norm of the rows.</param>
/// <param name="Anisotropy">Mean cosine similarity of random pairs of distinct rows (0: directions spread out).</param>
/// <param name="EffectiveRank">exp of the entropy of the normalised singular values (Roy and Vetterli 2007), of the matrix as it
/// is.</param>
public sealed record SpaceMetrics(double? DisparityToPrevious, double? DisparityToFinal, double? OverlapWithPrevious,
    double? OverlapWithFinal,
    double? Settled, double? Silhouette, double MeanNorm, double Anisotropy, double EffectiveRank);

/// <summary>The metrics of one frame.</summary>
/// <param name="Wpe">Null when the frames hold no learned positions.</param>
public sealed record FormationStep(int Step, double? Loss, SpaceMetrics Wte, SpaceMetrics? Wpe);

/// <summary>The metrics of every frame, and the step at which each row settled.</summary>
/// <param name="WteSettled">Per token id (up to <see cref="FormationOptions.MaxRows"/>): the first step from which its neighbours stay
/// settled.</param>
/// <param name="WpeSettled">The same per position; null without learned positions.</param>
public sealed record FormationReport(IReadOnlyList<FormationStep> Steps, int[] WteSettled, int[]? WpeSettled);

/// <summary>
/// Measures an embedding space forming along training: how far each saved frame is from the one before and
/// from the last (Procrustes disparity, nearest-neighbour overlap), when each token's neighbourhood settles,
/// and the shape of each frame on its own (group silhouette, norm, anisotropy, effective rank).
/// Frames are measured in parallel, each by one thread in a fixed order, so results do not depend on
/// <see cref="Threads.Count"/>.
/// </summary>
public static class Formation
{
    /// <summary>Measures every frame against the one before it and against the last.</summary>
    /// <example><code>var report = Formation.Measure(frames, tokens.Select(LetterGroup).ToArray());</code></example>
    /// <param name="frames">In increasing step order, all of one shape.</param>
    /// <param name="groups">Per wte row, its group for the silhouette (null: none), or null for no silhouette.</param>
    /// <param name="options">Null for the defaults.</param>
    /// <exception cref="ArgumentException">No frames, frames of different shapes, or steps out of order.</exception>
    public static FormationReport Measure(IReadOnlyList<FormationFrame> frames, IReadOnlyList<string?>? groups = null,
        FormationOptions? options = null)
    {
        var o = options ?? new FormationOptions();
        Check(frames, groups);
        var (wte, wteSettled) = Space(frames, f => f.Wte, groups, o);
        var (wpe, wpeSettled) = frames[0].Wpe is null ? (null, null) : Space(frames, f => f.Wpe!, null, o);
        var steps = frames.Select((f, i) => new FormationStep(f.Step, f.Loss, wte[i], wpe?[i])).ToList();
        return new FormationReport(steps, wteSettled, wpeSettled);
    }

    /// <summary>
    /// Measures <paramref name="current"/> against <paramref name="previous"/> only, as training goes: the fields
    /// about the last frame (<see cref="SpaceMetrics.DisparityToFinal"/>, overlap with it, settled) are null.
    /// </summary>
    /// <exception cref="ArgumentException">The frames differ in shape or step order.</exception>
    public static FormationStep Next(FormationFrame? previous, FormationFrame current, IReadOnlyList<string?>? groups = null,
        FormationOptions? options = null)
    {
        var o = options ?? new FormationOptions();
        Check(previous is null ? [current] : [previous, current], groups);
        SpaceMetrics One(Func<FormationFrame, float[]> matrix, IReadOnlyList<string?>? g)
        {
            var now = Frame.Of(matrix(current), current.Channels, o);
            if (previous is null) return now.Metrics(g, o, null, null, null, null);
            var before = Frame.Of(matrix(previous), previous.Channels, o);
            return now.Metrics(g, o, Disparity(now, before), null, Overlap(now, before).Average(), null);
        }
        return new FormationStep(current.Step, current.Loss, One(f => f.Wte, groups), current.Wpe is null ? null : One(f => f.Wpe!, null));
    }

    /// <summary>
    /// Mean silhouette coefficient with cosine distance (scikit-learn's <c>silhouette_score(x, labels, metric="cosine")</c>)
    /// over the rows that have a group; a row alone in its group scores 0. Null with fewer than two groups or
    /// as many groups as rows.
    /// </summary>
    /// <param name="x">Rows <c>(n, dims)</c>.</param>
    /// <param name="groups">Per row, its group or null (left out).</param>
    public static double? Silhouette(ReadOnlySpan<float> x, int dims, IReadOnlyList<string?> groups)
    {
        var rows = new List<int>();
        var label = new List<int>();
        var ids = new Dictionary<string, int>();
        for (int i = 0; i < groups.Count; i++)
        {
            if (groups[i] is not { } g) continue;
            if (!ids.TryGetValue(g, out int id)) ids[g] = id = ids.Count;
            rows.Add(i);
            label.Add(id);
        }
        int n = rows.Count, k = ids.Count;
        if (k < 2 || k >= n) return null;
        var size = new int[k];
        foreach (int l in label) size[l]++;
        var norm = new double[n];
        for (int a = 0; a < n; a++) norm[a] = Math.Sqrt(Dot(x.Slice(rows[a] * dims, dims), x.Slice(rows[a] * dims, dims)));
        double total = 0;
        var sum = new double[k];
        for (int a = 0; a < n; a++)
        {
            Array.Clear(sum);
            var xa = x.Slice(rows[a] * dims, dims);
            for (int b = 0; b < n; b++)
            {
                if (b == a) continue;
                double d = norm[a] == 0 || norm[b] == 0 ? 1 : 1 - Dot(xa, x.Slice(rows[b] * dims, dims)) / (norm[a] * norm[b]);
                sum[label[b]] += d;
            }
            int own = label[a];
            if (size[own] == 1) continue;
            double inside = sum[own] / (size[own] - 1), outside = double.PositiveInfinity;
            for (int l = 0; l < k; l++)
            {
                if (l != own) outside = Math.Min(outside, sum[l] / size[l]);
            }
            double spread = Math.Max(inside, outside);
            total += spread > 0 ? (outside - inside) / spread : 0;
        }
        return total / n;
    }

    /// <summary>exp(−Σ pᵢ ln pᵢ) with pᵢ = σᵢ / Σσ, the singular values of <paramref name="x"/> as it is (not centred); 0 for a zero
    /// matrix.</summary>
    /// <param name="x">Rows <c>(n, dims)</c>.</param>
    public static double EffectiveRank(ReadOnlySpan<float> x, int dims)
    {
        var m = Dense(x, dims);
        // The eigenvalues of the smaller Gram matrix are the squared singular values: min(n, dims)³ instead of an SVD of n × dims.
        var gram = m.RowCount >= m.ColumnCount ? m.TransposeThisAndMultiply(m) : m.TransposeAndMultiply(m);
        var sigma = gram.Evd(Symmetricity.Symmetric).EigenValues.Select(e => Math.Sqrt(Math.Max(e.Real, 0))).ToArray();
        double sum = sigma.Sum();
        if (sum == 0) return 0;
        double entropy = 0;
        foreach (double s in sigma)
        {
            if (s > 0) entropy -= s / sum * Math.Log(s / sum);
        }
        return Math.Exp(entropy);
    }

    /// <summary>
    /// Mean cosine similarity of pairs of distinct rows: all pairs when there are at most <paramref name="pairs"/>,
    /// else that many drawn from <c>Rng(seed)</c>. A zero row has cosine 0 with anything.
    /// </summary>
    /// <param name="x">Rows <c>(n, dims)</c>, n ≥ 2.</param>
    public static double Anisotropy(ReadOnlySpan<float> x, int dims, int pairs, ulong seed)
    {
        int n = x.Length / dims;
        if (n < 2) throw new ArgumentException($"anisotropy needs at least 2 rows, got {n}");
        var norm = new double[n];
        for (int i = 0; i < n; i++) norm[i] = Math.Sqrt(Dot(x.Slice(i * dims, dims), x.Slice(i * dims, dims)));
        double Cosine(ReadOnlySpan<float> all, int i, int j) =>
            norm[i] == 0 || norm[j] == 0 ? 0 : Dot(all.Slice(i * dims, dims), all.Slice(j * dims, dims)) / (norm[i] * norm[j]);
        double sum = 0;
        if ((long)n * (n - 1) / 2 <= pairs)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n; j++) sum += Cosine(x, i, j);
            }
            return sum / ((long)n * (n - 1) / 2);
        }
        var rng = new Rng(seed);
        for (int p = 0; p < pairs; p++)
        {
            int i = rng.NextInt(n), j = rng.NextInt(n - 1);
            sum += Cosine(x, i, j >= i ? j + 1 : j);
        }
        return sum / pairs;
    }

    /// <summary>
    /// The band structure of position embeddings: for each distance d, the mean cosine similarity of rows i and
    /// i + d over all i (element 0 is 1 for non-zero rows). Learned GPT-2-style positions start near 0 at every
    /// distance and grow a band that falls off with d as training goes on.
    /// </summary>
    /// <example><code>double[] band = Formation.PositionBands(wpe, channels); // band[1]: neighbouring positions</code></example>
    /// <param name="wpe">Rows <c>(T, C)</c>, one per position.</param>
    /// <param name="dims">C.</param>
    /// <returns>T values, one per distance 0 … T − 1.</returns>
    public static double[] PositionBands(ReadOnlySpan<float> wpe, int dims)
    {
        int t = wpe.Length / dims;
        var norm = new double[t];
        for (int i = 0; i < t; i++) norm[i] = Math.Sqrt(Dot(wpe.Slice(i * dims, dims), wpe.Slice(i * dims, dims)));
        var band = new double[t];
        for (int d = 0; d < t; d++)
        {
            double sum = 0;
            for (int i = 0; i + d < t; i++)
            {
                double n = norm[i] * norm[i + d];
                sum += n == 0 ? 0 : Dot(wpe.Slice(i * dims, dims), wpe.Slice((i + d) * dims, dims)) / n;
            }
            band[d] = sum / (t - d);
        }
        return band;
    }

    static void Check(IReadOnlyList<FormationFrame> frames, IReadOnlyList<string?>? groups)
    {
        if (frames.Count == 0) throw new ArgumentException("formation needs at least one frame");
        var first = frames[0];
        if (first.Channels < 1 || first.Wte.Length == 0 || first.Wte.Length % first.Channels != 0)
            throw new ArgumentException($"step {first.Step}: wte holds {first.Wte.Length} values, not whole rows of {first.Channels}");
        if (first.Wte.Length / first.Channels < 2) throw new ArgumentException($"step {first.Step}: wte needs at least 2 rows");
        if (first.Wpe is { } wpe && (wpe.Length % first.Channels != 0 || wpe.Length / first.Channels < 2))
            throw new ArgumentException($"step {first.Step}: wpe holds {wpe.Length} values, not at least 2 rows of {first.Channels}");
        if (groups is not null && groups.Count != first.Wte.Length / first.Channels)
            throw new ArgumentException($"{groups.Count} groups for {first.Wte.Length / first.Channels} tokens");
        for (int f = 1; f < frames.Count; f++)
        {
            var frame = frames[f];
            if (frame.Step <= frames[f - 1].Step) throw new ArgumentException($"frames must be in increasing step order; step " +
                $"{frame.Step} follows {frames[f - 1].Step}");
            if (frame.Channels != first.Channels || frame.Wte.Length != first.Wte.Length || frame.Wpe?.Length != first.Wpe?.Length)
                throw new ArgumentException($"step {frame.Step} has other shapes than step {first.Step}; are the frames from one run?");
        }
    }

    /// <summary>Both passes over the frames of one matrix: each frame on its own, then each against the one before and the last.</summary>
    static (SpaceMetrics[] Metrics, int[] Settled) Space(IReadOnlyList<FormationFrame> frames, Func<FormationFrame, float[]> matrix,
        IReadOnlyList<string?>? groups, FormationOptions o)
    {
        int count = frames.Count;
        var prepared = new Frame[count];
        Threads.For(count, f => prepared[f] = Frame.Of(matrix(frames[f]), frames[f].Channels, o));
        var last = prepared[^1];
        var toFinal = new double[count][];
        var metrics = new SpaceMetrics[count];
        Threads.For(count, f =>
        {
            var frame = prepared[f];
            toFinal[f] = Overlap(frame, last);
            var before = f == 0 ? null : prepared[f - 1];
            metrics[f] = frame.Metrics(groups, o, before is null ? null : Disparity(frame, before), Disparity(frame, last),
                before is null ? null : Overlap(frame, before).Average(), toFinal[f].Average());
        });
        int rows = last.Rows;
        var settled = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            int f = count - 1;
            while (f > 0 && toFinal[f - 1][i] >= o.SettledOverlap) f--;
            settled[i] = frames[f].Step;
        }
        for (int f = 0; f < count; f++) metrics[f] = metrics[f] with { Settled = settled.Count(s => s <= frames[f].Step) / (double)rows };
        return (metrics, settled);
    }

    /// <summary>Per row of <paramref name="a"/>, the share of its neighbours that are also its neighbours in
    /// <paramref name="b"/>.</summary>
    static double[] Overlap(Frame a, Frame b)
    {
        int k = a.K;
        var share = new double[a.Rows];
        for (int i = 0; i < a.Rows; i++)
        {
            var mine = a.Neighbours.AsSpan(i * k, k);
            var theirs = b.Neighbours.AsSpan(i * k, k);
            int common = 0;
            foreach (int j in mine)
            {
                if (theirs.Contains(j)) common++;
            }
            share[i] = common / (double)k;
        }
        return share;
    }

    static double Disparity(Frame a, Frame b) => Procrustes.Disparity(a.Rows32, b.Rows32, a.Dims);

    static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int c = 0; c < a.Length; c++) sum += (double)a[c] * b[c];
        return sum;
    }

    static Matrix<double> Dense(ReadOnlySpan<float> x, int dims)
    {
        var values = x.ToArray();
        return Matrix<double>.Build.Dense(values.Length / dims, dims, (i, c) => values[i * dims + c]);
    }

    /// <summary>One frame of one matrix: its rows (cut to MaxRows) and each row's neighbours.</summary>
    sealed class Frame
    {
        public required float[] Rows32 { get; init; }
        public required int Dims { get; init; }
        public required int K { get; init; }

        /// <summary>Per row, its K nearest other rows by cosine similarity, nearest first, ties to the lower index: <c>(rows,
        /// K)</c>.</summary>
        public required int[] Neighbours { get; init; }

        public int Rows => Rows32.Length / Dims;

        public static Frame Of(float[] matrix, int dims, FormationOptions o)
        {
            int rows = Math.Min(matrix.Length / dims, o.MaxRows);
            var unit = matrix[..(rows * dims)];
            for (int i = 0; i < rows; i++)
            {
                var row = unit.AsSpan(i * dims, dims);
                float norm = TensorPrimitives.Norm(row);
                if (norm > 0) TensorPrimitives.Divide(row, norm, row);
            }
            int k = Math.Min(o.Neighbours, rows - 1);
            return new Frame { Rows32 = matrix[..(rows * dims)], Dims = dims, K = k, Neighbours = Nearest(unit, rows, dims, k) };
        }

        /// <summary>This frame's own metrics (silhouette, norm, anisotropy, effective rank) with the given comparisons; Settled left
        /// null.</summary>
        public SpaceMetrics Metrics(IReadOnlyList<string?>? groups, FormationOptions o, double? toPrevious, double? toFinal,
            double? withPrevious, double? withFinal)
        {
            var x = Rows32.AsSpan();
            double norms = 0;
            for (int i = 0; i < Rows; i++) norms += Math.Sqrt(Dot(x.Slice(i * Dims, Dims), x.Slice(i * Dims, Dims)));
            double? silhouette = groups is null ? null : Formation.Silhouette(x, Dims, groups.Take(Rows).ToArray());
            return new SpaceMetrics(toPrevious, toFinal, withPrevious, withFinal, null, silhouette, norms / Rows,
                Formation.Anisotropy(x, Dims, o.Pairs, o.Seed), Formation.EffectiveRank(x, Dims));
        }

        static int[] Nearest(float[] unit, int rows, int dims, int k)
        {
            var result = new int[rows * k];
            var similarity = new float[k];
            for (int i = 0; i < rows; i++)
            {
                var best = result.AsSpan(i * k, k);
                int found = 0;
                var xi = unit.AsSpan(i * dims, dims);
                for (int j = 0; j < rows; j++)
                {
                    if (j == i) continue;
                    float s = TensorPrimitives.Dot(xi, unit.AsSpan(j * dims, dims));
                    if (found == k && s <= similarity[k - 1]) continue;
                    int at = found < k ? found++ : k - 1;
                    while (at > 0 && similarity[at - 1] < s)
                    {
                        similarity[at] = similarity[at - 1];
                        best[at] = best[at - 1];
                        at--;
                    }
                    similarity[at] = s;
                    best[at] = j;
                }
            }
            return result;
        }
    }
}
