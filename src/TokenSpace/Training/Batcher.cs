using TokenSpace.Tensors;

namespace TokenSpace.Training;

// Legend: B batch rows, T positions (at most the block size).

/// <summary>
/// Cuts training batches from a corpus.
/// <list type="bullet">
/// <item>Text: B windows of T + 1 tokens at uniformly random starts (drawn from the training Rng); inputs are
/// the first T, targets the last T.</item>
/// <item>Lines: B consecutive documents of the (already shuffled) training order, wrapping around; document
/// k of step s is number (s·B + k) mod count, so the order depends on the step alone. Each is
/// <c>[BOS] + chars + [BOS]</c> truncated to T + 1 tokens; the batch's T is its longest document's, and shorter
/// rows are padded at the end with BOS inputs and ignored targets. Causal attention never lets a real
/// position see the padding after it, and ignored targets take no part in the loss, so the loss is the
/// mean over the batch's real predicted tokens (each document weighted by its length, as microgpt does
/// for one document).</item>
/// </list>
/// </summary>
public sealed class Batcher(TextData data, int batchSize, int blockSize, int bosId)
{
    /// <summary>Writes step <paramref name="step"/>'s batch into <paramref name="inputs"/>/<paramref name="targets"/> (both at least
    /// B·blockSize) and returns its (B, T).</summary>
    public (int B, int T) Next(int step, Rng rng, int[] inputs, int[] targets)
    {
        if (data.Mode == DataMode.Text)
        {
            var stream = data.Stream.Span;
            int T = Math.Min(blockSize, stream.Length - 1);
            for (int b = 0; b < batchSize; b++)
            {
                int start = rng.NextInt(stream.Length - T);
                stream.Slice(start, T).CopyTo(inputs.AsSpan(b * T));
                stream.Slice(start + 1, T).CopyTo(targets.AsSpan(b * T));
            }
            return (batchSize, T);
        }
        var docs = data.Documents;
        int longest = 0;
        for (int b = 0; b < batchSize; b++) longest = Math.Max(longest, Math.Min(blockSize, docs[Index(step, b)].Length - 1));
        for (int b = 0; b < batchSize; b++)
        {
            var doc = docs[Index(step, b)];
            int n = Math.Min(blockSize, doc.Length - 1);
            doc.AsSpan(0, n).CopyTo(inputs.AsSpan(b * longest));
            doc.AsSpan(1, n).CopyTo(targets.AsSpan(b * longest));
            inputs.AsSpan(b * longest + n, longest - n).Fill(bosId);
            targets.AsSpan(b * longest + n, longest - n).Fill(CrossEntropy.Ignore);
        }
        return (batchSize, longest);
    }

    int Index(int step, int b) => (int)(((long)step * batchSize + b) % data.Documents.Count);
}
