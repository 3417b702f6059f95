using TokenSpace.Tensors;

namespace TokenSpace.Model;

/// <summary>Autoregressive sampling from a <see cref="Gpt"/>.</summary>
public static class Sampler
{
    /// <summary>
    /// Extends <paramref name="prompt"/> one token at a time: runs the model on the last block_size tokens,
    /// divides the last position's logits by <paramref name="temperature"/>, keeps the <paramref name="topK"/>
    /// largest (0: all), and draws from their softmax. Stops after <paramref name="maxNewTokens"/> tokens or
    /// when <paramref name="stopId"/> is drawn (not included). Temperature 0 takes the most likely token.
    /// Returns only the new tokens.
    /// </summary>
    /// <remarks>
    /// While the text fits the model's context, each new token runs one position through a key/value cache
    /// (<see cref="Gpt.Decode"/>) instead of the whole text; past it, the window shifts and every position's
    /// embedding changes, so the window is recomputed for each token. Both give the same logits bit for bit,
    /// so <paramref name="kvCache"/> false (recompute always) draws the same tokens, only slower.
    /// </remarks>
    /// <exception cref="ArgumentException">Empty prompt or negative temperature.</exception>
    public static int[] Generate(Gpt model, ReadOnlySpan<int> prompt, int maxNewTokens, float temperature, int topK, Rng rng,
        int stopId = -1,
        bool kvCache = true)
    {
        if (prompt.IsEmpty) throw new ArgumentException("the prompt must hold at least one token (e.g. BOS)");
        if (!(temperature >= 0)) throw new ArgumentException($"temperature must not be negative, got {temperature}");
        int V = model.Config.VocabSize, block = model.MaxT;
        var tokens = new List<int>(prompt.ToArray());
        var result = new List<int>();
        var scores = new double[V];
        var heap = new int[Math.Clamp(topK, 0, V)];
        var cache = kvCache ? model.NewCache() : null;
        for (int i = 0; i < maxNewTokens; i++)
        {
            ReadOnlySpan<float> last = default;
            if (cache is not null && tokens.Count <= block)
            {
                while (cache.Length < tokens.Count) last = model.Decode(cache, tokens[cache.Length]);
            }
            else
            {
                int T = Math.Min(block, tokens.Count);
                var context = tokens.GetRange(tokens.Count - T, T).ToArray();
                model.Forward(context, [], 1, T);
                last = model.Logits.Slice((T - 1) * V, V);
            }
            int next;
            if (temperature == 0)
            {
                next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(last);
            }
            else
            {
                for (int v = 0; v < V; v++) scores[v] = last[v] / (double)temperature;
                if (topK > 0 && topK < V) KeepTopK(scores, heap);
                double max = scores.Max(), sum = 0;
                for (int v = 0; v < V; v++) sum += scores[v] = Math.Exp(scores[v] - max);
                double u = rng.NextDouble() * sum, acc = 0;
                next = V - 1;
                for (int v = 0; v < V; v++)
                {
                    acc += scores[v];
                    if (u < acc && scores[v] > 0)
                    {
                        next = v;
                        break;
                    }
                }
            }
            if (next == stopId) break;
            tokens.Add(next);
            result.Add(next);
        }
        return [.. result];
    }

    /// <summary>
    /// Sets every score but the <c>heap.Length</c> largest to −∞; ties at the cut keep the lower id.
    /// O(V log k) with a min-heap of the kept ids (root: the worst kept), instead of sorting all V.
    /// </summary>
    internal static void KeepTopK(Span<double> scores, Span<int> heap)
    {
        int k = heap.Length;
        for (int v = 0; v < k; v++)
        {
            // Sift up.
            int i = v;
            for (; i > 0 && Worse(scores, v, heap[(i - 1) / 2]); i = (i - 1) / 2) heap[i] = heap[(i - 1) / 2];
            heap[i] = v;
        }
        for (int v = k; v < scores.Length; v++)
        {
            // v has the highest id so far, so it beats the root only with a strictly larger score.
            if (!(scores[v] > scores[heap[0]])) continue;
            int i = 0;
            while (true)
            {
                int child = 2 * i + 1;
                if (child >= k) break;
                if (child + 1 < k && Worse(scores, heap[child + 1], heap[child])) child++;
                if (!Worse(scores, heap[child], v)) break;
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = v;
        }
        double cut = scores[heap[0]];
        int lastKept = heap[0];
        for (int v = 0; v < scores.Length; v++)
        {
            if (!(scores[v] > cut || (scores[v] == cut && v <= lastKept))) scores[v] = double.NegativeInfinity;
        }
    }

    // Whether id a ranks below id b: a smaller score, or the same score and a higher id.
    static bool Worse(ReadOnlySpan<double> scores, int a, int b) => scores[a] < scores[b] || (scores[a] == scores[b] && a > b);
}
