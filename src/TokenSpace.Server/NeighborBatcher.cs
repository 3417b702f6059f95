using System.Collections.Concurrent;
using TokenSpace.Vectors;

namespace TokenSpace.Server;

/// <summary>
/// Coalesces the cosine neighbour queries that arrive together for one space into one
/// <see cref="KeyedVectors.MostSimilarBatch"/> call — the call <c>tokenspace neighbors</c> makes — so one pass
/// over the rows serves them all: under load a query costs a share of a scan instead of a whole one. A batch and
/// a single query give identical numbers, and the top k of a larger k are the top k, so each answer is exactly
/// what the query alone would get.
/// </summary>
sealed class NeighborBatcher : IDisposable
{
    /// <summary>Most queries one pass serves.</summary>
    const int MaxBatch = 64;

    readonly KeyedVectors vectors;
    readonly BlockingCollection<Pending> queue = [];
    readonly Thread worker;

    sealed record Pending(IReadOnlyList<string> Positive, IReadOnlyList<string> Negative, int K,
        TaskCompletionSource<IReadOnlyList<Neighbor>> Done);

    public NeighborBatcher(KeyedVectors vectors)
    {
        this.vectors = vectors;
        worker = new Thread(Work) { IsBackground = true, Name = "TokenSpace.Server neighbours" };
        worker.Start();
    }

    /// <summary>The <paramref name="k"/> keys most similar to the mean of +positive −negative (keys already checked to exist).</summary>
    public Task<IReadOnlyList<Neighbor>> MostSimilar(IReadOnlyList<string> positive, IReadOnlyList<string> negative, int k)
    {
        var done = new TaskCompletionSource<IReadOnlyList<Neighbor>>(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Add(new Pending(positive, negative, k, done));
        return done.Task;
    }

    void Work()
    {
        var batch = new List<Pending>(MaxBatch);
        foreach (var first in queue.GetConsumingEnumerable())
        {
            batch.Clear();
            batch.Add(first);
            while (batch.Count < MaxBatch && queue.TryTake(out var next)) batch.Add(next);
            try
            {
                var found = vectors.MostSimilarBatch(batch.Select(p => (p.Positive, p.Negative)).ToList(), batch.Max(p => p.K));
                for (int i = 0; i < batch.Count; i++) batch[i].Done.SetResult(found[i].Take(batch[i].K).ToList());
            }
            catch (Exception e)
            {
                foreach (var p in batch) p.Done.TrySetException(e);
            }
        }
    }

    public void Dispose()
    {
        queue.CompleteAdding();
        worker.Join();
        queue.Dispose();
    }
}
