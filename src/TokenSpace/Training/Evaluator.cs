using TokenSpace.Model;
using TokenSpace.Tensors;

namespace TokenSpace.Training;

/// <summary>Mean next-token loss of a model on a corpus, every predicted token counted once.</summary>
public static class Evaluator
{
    /// <summary>
    /// Lines: every document as in training (<c>[BOS] + chars + [BOS]</c>, truncated to block + 1), in batches of
    /// up to the model's MaxBatch. Text: consecutive non-overlapping windows of T inputs from token 0, the
    /// last partial window included. Stops after about <paramref name="maxTokens"/> predicted tokens (0: all).
    /// Returns the token-weighted mean loss and the number of tokens.
    /// </summary>
    /// <exception cref="ArgumentException">The data has nothing to predict.</exception>
    public static (double Loss, long Tokens) Loss(Gpt model, TextData data, long maxTokens = 0)
    {
        int maxB = model.MaxBatch, T = model.MaxT;
        var inputs = new int[maxB * T];
        var targets = new int[maxB * T];
        double total = 0;
        long count = 0;
        void Run(int B, int t)
        {
            float mean = model.Forward(inputs.AsSpan(0, B * t), targets.AsSpan(0, B * t), B, t);
            if (model.TargetCount == 0) return;
            total += (double)mean * model.TargetCount;
            count += model.TargetCount;
        }
        if (data.Mode == DataMode.Lines)
        {
            var docs = data.Documents;
            for (int start = 0; start < docs.Count && (maxTokens == 0 || count < maxTokens); start += maxB)
            {
                int B = Math.Min(maxB, docs.Count - start);
                int longest = 0;
                for (int b = 0; b < B; b++) longest = Math.Max(longest, Math.Min(T, docs[start + b].Length - 1));
                for (int b = 0; b < B; b++)
                {
                    var doc = docs[start + b];
                    int n = Math.Min(T, doc.Length - 1);
                    doc.AsSpan(0, n).CopyTo(inputs.AsSpan(b * longest));
                    doc.AsSpan(1, n).CopyTo(targets.AsSpan(b * longest));
                    inputs.AsSpan(b * longest + n, longest - n).Fill(doc[0]);
                    targets.AsSpan(b * longest + n, longest - n).Fill(CrossEntropy.Ignore);
                }
                Run(B, longest);
            }
        }
        else
        {
            var stream = data.Stream.Span;
            int windows = (stream.Length - 1 + T - 1) / T;
            int full = (stream.Length - 1) / T;
            for (int w = 0; w < windows && (maxTokens == 0 || count < maxTokens);)
            {
                if (w < full)
                {
                    int B = Math.Min(maxB, full - w);
                    for (int b = 0; b < B; b++)
                    {
                        stream.Slice((w + b) * T, T).CopyTo(inputs.AsSpan(b * T));
                        stream.Slice((w + b) * T + 1, T).CopyTo(targets.AsSpan(b * T));
                    }
                    Run(B, T);
                    w += B;
                }
                else
                {
                    int t = stream.Length - 1 - w * T;
                    stream.Slice(w * T, t).CopyTo(inputs);
                    stream.Slice(w * T + 1, t).CopyTo(targets);
                    Run(1, t);
                    w++;
                }
            }
        }
        if (count == 0) throw new ArgumentException("the data has no token to predict");
        return (total / count, count);
    }
}
