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
    /// <exception cref="ArgumentException">Empty prompt or negative temperature.</exception>
    public static int[] Generate(Gpt model, ReadOnlySpan<int> prompt, int maxNewTokens, float temperature, int topK, Rng rng, int stopId = -1)
    {
        if (prompt.IsEmpty) throw new ArgumentException("the prompt must hold at least one token (e.g. BOS)");
        if (!(temperature >= 0)) throw new ArgumentException($"temperature must not be negative, got {temperature}");
        int V = model.Config.VocabSize, block = model.MaxT;
        var tokens = new List<int>(prompt.ToArray());
        var result = new List<int>();
        var scores = new double[V];
        var order = new int[V];
        for (int i = 0; i < maxNewTokens; i++)
        {
            int T = Math.Min(block, tokens.Count);
            var context = tokens.GetRange(tokens.Count - T, T).ToArray();
            model.Forward(context, [], 1, T);
            var last = model.Logits.Slice((T - 1) * V, V);
            int next;
            if (temperature == 0)
            {
                next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(last);
            }
            else
            {
                for (int v = 0; v < V; v++)
                {
                    scores[v] = last[v] / (double)temperature;
                    order[v] = v;
                }
                if (topK > 0 && topK < V)
                {
                    // Keep the k largest; ties at the cut keep the lower id.
                    Array.Sort(order, (a, b) => scores[b].CompareTo(scores[a]) is var c && c != 0 ? c : a.CompareTo(b));
                    for (int r = topK; r < V; r++) scores[order[r]] = double.NegativeInfinity;
                }
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
}
