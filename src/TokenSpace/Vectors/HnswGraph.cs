using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TokenSpace.Tensors;

namespace TokenSpace.Vectors;

/// <summary>
/// Where an HNSW graph's parts lie in one buffer (the index file after its header, or the build's memory).
/// <para>
/// Legend: N rows, M links per node on the upper layers (2M on layer 0), R the code's row bytes.
/// The buffer holds, in order: N nodes of <see cref="Stride"/> bytes (64-aligned), each its stored row (R)
/// followed by its layer-0 links (int32 count, then 2M int32 rows), so a visit reads one run of cache lines;
/// then int32 levels (N), int32 upper starts (N) and the upper layers' links (int32): node i's links on layer
/// l ≥ 1 are the M + 1 ints (count, then M rows) at upper[start[i] + (l − 1)(M + 1)].
/// </para>
/// </summary>
sealed unsafe class HnswLayout
{
    /// <summary>The highest level a node may have (a level is drawn as ⌊−ln U / ln M⌋, so this is never reached in practice).</summary>
    public const int MaxLevel = 31;

    public HnswLayout(byte* body, int count, int m, int rowBytes)
    {
        Body = body;
        Count = count;
        M = m;
        RowBytes = rowBytes;
        Stride = (rowBytes + sizeof(int) * (2 * m + 1) + 63) & ~63L;
    }

    public byte* Body { get; }

    public int Count { get; }

    public int M { get; }

    public int RowBytes { get; }

    public long Stride { get; }

    /// <summary>Bytes before the levels: the nodes.</summary>
    public long NodeBytes => Count * Stride;

    public int* Levels => (int*)(Body + NodeBytes);

    public int* UpperStarts => Levels + Count;

    public int* Upper => UpperStarts + Count;

    public byte* Row(int i) => Body + i * Stride;

    /// <summary>Node <paramref name="i"/>'s links on <paramref name="level"/>: the count, then the rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int* Links(int i, int level) =>
        level == 0 ? (int*)(Body + i * Stride + RowBytes) : Upper + UpperStarts[i] + (level - 1) * (M + 1);

    public int Capacity(int level) => level == 0 ? 2 * M : M;

    /// <summary>The buffer's length for nodes whose levels sum to <paramref name="levelSum"/>.</summary>
    public long Length(long levelSum) => NodeBytes + 2L * sizeof(int) * Count + levelSum * (M + 1) * sizeof(int);

    /// <summary>
    /// What is wrong with a buffer of <paramref name="length"/> bytes read from a file, or null when every level, link count
    /// and link is in range (so that searching it cannot read outside it).
    /// </summary>
    public string? Check(long length, int entry)
    {
        if (length < NodeBytes + 2L * sizeof(int) * Count) return $"{length} bytes cannot hold {Count} nodes of {Stride} bytes";
        long levelSum = 0;
        for (int i = 0; i < Count; i++)
        {
            if ((uint)Levels[i] > MaxLevel) return $"node {i} has level {Levels[i]}";
            if (Levels[i] > 0 && UpperStarts[i] != levelSum * (M + 1)) return $"node {i}'s upper links start at {UpperStarts[i]}";
            levelSum += Levels[i];
        }
        if (length != Length(levelSum)) return $"{length} bytes, the levels need {Length(levelSum)}";
        if ((uint)entry >= (uint)Count && Count > 0) return $"entry point {entry} is not a row";
        for (int i = 0; i < Count; i++)
        {
            for (int level = 0; level <= Levels[i]; level++)
            {
                int* links = Links(i, level);
                if ((uint)links[0] > (uint)Capacity(level)) return $"node {i} has {links[0]} links on layer {level}";
                for (int j = 1; j <= links[0]; j++)
                {
                    if ((uint)links[j] >= (uint)Count) return $"node {i} links to row {links[j]}";
                }
            }
        }
        return null;
    }
}

/// <summary>An HNSW graph over rows stored by one <see cref="IRowCode"/>: the searches and the build.</summary>
interface IHnswGraph
{
    /// <summary>The entry point: the node on the top layer.</summary>
    int Entry { get; }

    /// <summary>Links every row of <paramref name="unit"/> (N × dims) on <see cref="Threads.Count"/> threads.</summary>
    void Build(ReadOnlyMemory<float> unit, int expansionAdd, Action<double>? progress);

    /// <summary>
    /// The <paramref name="ef"/> rows below <paramref name="rowEnd"/> the search found nearest to the unit vector
    /// <paramref name="query"/>, nearest first by the code's scores (fewer if fewer rows are reachable).
    /// </summary>
    int[] Search(ReadOnlySpan<float> query, int ef, int rowEnd);
}

/// <summary>
/// Hierarchical navigable small-world graphs (Malkov &amp; Yashunin 2018), as hnswlib builds and walks them:
/// levels drawn as ⌊−ln U / ln M⌋, each node linked on each of its layers to the nodes the neighbour-selection
/// heuristic keeps from efConstruction candidates, and a full neighbour's list re-selected by the same heuristic.
/// </summary>
sealed unsafe class HnswGraph<TCode> : IHnswGraph where TCode : struct, IRowCode
{
    readonly HnswLayout layout;
    readonly int dims;
    readonly ConcurrentBag<Scratch> scratches = [];
    int entry;
    int* locks;

    /// <param name="layout">The graph's buffer; its levels are read from it, so they must be set before.</param>
    /// <param name="dims">Values in a row.</param>
    /// <param name="entry">The entry point (when searching a built graph).</param>
    public HnswGraph(HnswLayout layout, int dims, int entry)
    {
        this.layout = layout;
        this.dims = dims;
        this.entry = entry;
    }

    public int Entry => entry;

    int TopLevel => layout.Count == 0 ? 0 : layout.Levels[entry];

    public void Build(ReadOnlyMemory<float> unit, int expansionAdd, Action<double>? progress)
    {
        int n = layout.Count;
        if (n == 0) return;
        // Every row's code and empty links first: a link found during the parallel build always leads to a stored row.
        Threads.For((n + 1023) / 1024, u =>
        {
            for (int i = u * 1024; i < Math.Min(n, (u + 1) * 1024); i++)
            {
                TCode.Encode(unit.Span.Slice(i * dims, dims), layout.Row(i));
                for (int level = 0; level <= layout.Levels[i]; level++) layout.Links(i, level)[0] = 0;
            }
        });
        locks = (int*)NativeMemory.AllocZeroed((nuint)n, sizeof(int));
        try
        {
            entry = 0;
            var gate = new object();
            // Each thread takes the next row not yet taken, as hnswlib's build does: the rows go in nearly in order (GloVe's are by
            // frequency, the common words first); on one thread exactly in order, so the graph is the same every time.
            int next = 0, done = 0;
            Threads.For(Threads.Count, _ =>
            {
                var scratch = Rent();
                for (int i; (i = Interlocked.Increment(ref next)) < n;)
                {
                    Insert(i, expansionAdd, scratch, gate);
                    int linked = Interlocked.Increment(ref done);
                    if (linked % 4096 == 0) progress?.Invoke((double)linked / n);
                }
                scratches.Add(scratch);
            });
            progress?.Invoke(1);
        }
        finally
        {
            NativeMemory.Free(locks);
            locks = null;
        }
    }

    public int[] Search(ReadOnlySpan<float> query, int ef, int rowEnd)
    {
        if (layout.Count == 0) return [];
        var s = Rent();
        try
        {
            TCode.Query(query, s.Query);
            int current = Greedy(s.Query, entry, TopLevel, 1);
            SearchLayer(s, current, ef, 0, rowEnd);
            var rows = new int[s.Results.Count];
            for (int i = rows.Length - 1; i >= 0; i--) rows[i] = s.Results.Pop().Id;
            return rows;
        }
        finally
        {
            scratches.Add(s);
        }
    }

    Scratch Rent() => scratches.TryTake(out var s) ? s : new Scratch(layout.Count, TCode.QueryBytes(dims), layout.M);

    /// <summary>hnswlib's addPoint: links node <paramref name="q"/> into every layer up to its level.</summary>
    void Insert(int q, int efConstruction, Scratch s, object gate)
    {
        int level = layout.Levels[q];
        TCode.RowQuery(layout.Row(q), s.Query, dims);
        // A node above the top layer becomes the entry point: other inserts wait until it is linked.
        Monitor.Enter(gate);
        var (current, top) = (entry, TopLevel);
        bool raises = level > top;
        if (!raises) Monitor.Exit(gate);
        try
        {
            current = Greedy(s.Query, current, top, level + 1);
            for (int l = Math.Min(level, top); l >= 0; l--)
            {
                SearchLayer(s, current, efConstruction, l, layout.Count);
                int count = SelectByHeuristic(s, layout.M);
                current = s.Selected[0];
                // Connect re-selects into Selected: walk a copy. q's own links go in through Connect too, so links that other
                // inserts gave q meanwhile (they can reach q through its upper layers) are kept, not overwritten.
                s.Selected.AsSpan(0, count).CopyTo(s.Linked);
                for (int j = 0; j < count; j++) Connect(q, s.Linked[j], l, s);
                for (int j = 0; j < count; j++) Connect(s.Linked[j], q, l, s);
            }
            if (raises) entry = q;
        }
        finally
        {
            if (raises) Monitor.Exit(gate);
        }
    }

    /// <summary>Adds <paramref name="q"/> to <paramref name="e"/>'s links on <paramref name="level"/> unless it is there, re-selecting
    /// them when full.</summary>
    void Connect(int e, int q, int level, Scratch s)
    {
        Lock(e);
        try
        {
            int* links = layout.Links(e, level);
            int count = links[0], capacity = layout.Capacity(level);
            for (int j = 1; j <= count; j++)
            {
                if (links[j] == q) return;
            }
            if (count < capacity)
            {
                links[1 + count] = q;
                Volatile.Write(ref links[0], count + 1);
                return;
            }
            // The candidates are e's links and q, scored against e; the heuristic keeps capacity of them.
            TCode.RowQuery(layout.Row(e), s.Other, dims);
            s.Results.Clear();
            s.Results.Push(TCode.Score(s.Other, layout.Row(q), dims), q);
            for (int j = 1; j <= count; j++) s.Results.Push(TCode.Score(s.Other, layout.Row(links[j]), dims), links[j]);
            int kept = SelectByHeuristic(s, capacity);
            for (int j = 0; j < kept; j++) links[1 + j] = s.Selected[j];
            Volatile.Write(ref links[0], kept);
        }
        finally
        {
            Unlock(e);
        }
    }

    /// <summary>
    /// hnswlib's getNeighborsByHeuristic2: from the candidates in <see cref="Scratch.Results"/>, nearest first, keeps a
    /// candidate only when it is nearer to the query than to every one kept before it, up to <paramref name="max"/>;
    /// leaves them in <see cref="Scratch.Selected"/>, nearest first, and returns how many.
    /// </summary>
    int SelectByHeuristic(Scratch s, int max)
    {
        int n = s.Results.Count;
        if (s.Sorted.Length < n) s.Sorted = new (float, int)[Math.Max(n, 2 * s.Sorted.Length)];
        var sorted = s.Sorted;
        for (int i = n - 1; i >= 0; i--) sorted[i] = s.Results.Pop();
        int kept = 0;
        for (int i = 0; i < n && kept < max; i++)
        {
            var (score, candidate) = sorted[i];
            bool good = true;
            if (n >= max)
            {
                TCode.RowQuery(layout.Row(candidate), s.Other, dims);
                for (int j = 0; j < kept && good; j++) good = TCode.Score(s.Other, layout.Row(s.Selected[j]), dims) <= score;
            }
            if (good) s.Selected[kept++] = candidate;
        }
        return kept;
    }

    /// <summary>The greedy walk of the upper layers: from <paramref name="start"/> on layer <paramref name="from"/>
    /// down to layer <paramref name="to"/>, each time to the nearest neighbour while one is nearer.</summary>
    int Greedy(byte* query, int start, int from, int to)
    {
        int current = start;
        float best = TCode.Score(query, layout.Row(current), dims);
        for (int level = from; level >= to; level--)
        {
            bool moved = true;
            while (moved)
            {
                moved = false;
                int* links = layout.Links(current, level);
                int count = Math.Min(Volatile.Read(ref links[0]), layout.Capacity(level));
                for (int j = 1; j <= count; j++)
                {
                    int e = links[j];
                    float score = TCode.Score(query, layout.Row(e), dims);
                    if (score > best) (best, current, moved) = (score, e, true);
                }
            }
        }
        return current;
    }

    /// <summary>
    /// hnswlib's searchBaseLayer on <paramref name="level"/> from <paramref name="start"/>: leaves the
    /// <paramref name="ef"/> nearest rows below <paramref name="rowEnd"/> it finds in <see cref="Scratch.Results"/>
    /// (a min-heap, the farthest on top). Rows at or past <paramref name="rowEnd"/> are walked through, not kept.
    /// </summary>
    void SearchLayer(Scratch s, int start, int ef, int level, int rowEnd)
    {
        ushort tag = s.NextTag();
        ushort[] visited = s.Visited;
        var candidates = s.Candidates;
        var results = s.Results;
        candidates.Clear();
        results.Clear();
        byte* query = s.Query;
        int capacity = layout.Capacity(level);
        float score = TCode.Score(query, layout.Row(start), dims);
        visited[start] = tag;
        candidates.Push(-score, start);
        if (start < rowEnd) results.Push(score, start);
        int* batch = s.Batch;
        while (candidates.Count > 0)
        {
            var (negative, c) = candidates.Top;
            if (results.Count == ef && -negative < results.Top.Key) break;
            candidates.Pop();
            int* links = layout.Links(c, level);
            int count = Math.Min(Volatile.Read(ref links[0]), capacity), fresh = 0;
            for (int j = 1; j <= count; j++)
            {
                int e = links[j];
                if (visited[e] == tag) continue;
                visited[e] = tag;
                batch[fresh++] = e;
            }
            if (fresh > 0) Prefetch(layout.Row(batch[0]));
            for (int j = 0; j < fresh; j++)
            {
                int e = batch[j];
                if (j + 1 < fresh) Prefetch(layout.Row(batch[j + 1]));
                score = TCode.Score(query, layout.Row(e), dims);
                if (results.Count < ef || score > results.Top.Key)
                {
                    candidates.Push(-score, e);
                    if (e < rowEnd)
                    {
                        results.Push(score, e);
                        if (results.Count > ef) results.Pop();
                    }
                }
            }
        }
    }

    /// <summary>Asks for the cache lines of a row and its layer-0 links before they are read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Prefetch(byte* row)
    {
        if (!Sse.IsSupported) return;
        for (long offset = 0; offset < layout.Stride; offset += 64) Sse.Prefetch0(row + offset);
    }

    void Lock(int i)
    {
        var spin = new SpinWait();
        while (Interlocked.CompareExchange(ref locks[i], 1, 0) != 0) spin.SpinOnce(sleep1Threshold: -1);
    }

    void Unlock(int i) => Volatile.Write(ref locks[i], 0);

    /// <summary>One search's or one build thread's working memory: reused, never shared by two at once.</summary>
    sealed class Scratch
    {
        ushort tag;

        public Scratch(int count, int queryBytes, int m)
        {
            Visited = new ushort[count];
            Query = (byte*)NativeMemory.AlignedAlloc((nuint)queryBytes * 2, 64);
            Other = Query + queryBytes;
            Batch = (int*)NativeMemory.Alloc((nuint)(2 * m + 1), sizeof(int));
            Selected = new int[2 * m + 1];
            Linked = new int[2 * m + 1];
        }

        ~Scratch()
        {
            NativeMemory.AlignedFree(Query);
            NativeMemory.Free(Batch);
        }

        /// <summary>Per row, the tag of the last search that reached it.</summary>
        public ushort[] Visited { get; }

        /// <summary>The query in the code's query form (QueryBytes).</summary>
        public byte* Query { get; }

        /// <summary>A second query buffer: the node whose links are re-selected.</summary>
        public byte* Other { get; }

        /// <summary>A node's unvisited neighbours (2M).</summary>
        public int* Batch { get; }

        public Heap Candidates { get; } = new();

        public Heap Results { get; } = new();

        /// <summary>The links the heuristic kept (up to 2M).</summary>
        public int[] Selected { get; }

        /// <summary>The links of the node being inserted, while its neighbours link back.</summary>
        public int[] Linked { get; }

        /// <summary>The heuristic's candidates, nearest first.</summary>
        public (float Key, int Id)[] Sorted { get; set; } = new (float, int)[256];

        /// <summary>A fresh tag for <see cref="Visited"/>; when the tags wrap around, the array is cleared.</summary>
        public ushort NextTag()
        {
            if (++tag == 0)
            {
                Array.Clear(Visited);
                tag = 1;
            }
            return tag;
        }
    }
}

/// <summary>A binary min-heap of (key, id) pairs that grows as needed.</summary>
sealed class Heap
{
    (float Key, int Id)[] items = new (float, int)[64];

    public int Count { get; private set; }

    public (float Key, int Id) Top => items[0];

    public void Clear() => Count = 0;

    public void Push(float key, int id)
    {
        if (Count == items.Length) Array.Resize(ref items, 2 * Count);
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent].Key <= key) break;
            items[i] = items[parent];
            i = parent;
        }
        items[i] = (key, id);
    }

    public (float Key, int Id) Pop()
    {
        var top = items[0];
        var last = items[--Count];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= Count) break;
            if (child + 1 < Count && items[child + 1].Key < items[child].Key) child++;
            if (items[child].Key >= last.Key) break;
            items[i] = items[child];
            i = child;
        }
        if (Count > 0) items[i] = last;
        return top;
    }
}
