using TokenSpace.Embeddings;
using TokenSpace.Tensors;

namespace TokenSpace.Bench;

/// <summary>
/// <c>embedding</c>: wte forward + backward at GPT-2 scale (V 50257, C 768, B 8, T 1024), the same
/// computation as one-hot × Linear, a plain copy of as many bytes (the bandwidth ceiling), and
/// PyTorch's time for the same embedding forward + backward, measured in the same run.
/// </summary>
static class EmbeddingBench
{
    const int V = 50257, C = 768, B = 8, T = 1024;
    const string BytesCounted = "5*N*C*4: forward reads N table rows and writes N output rows, backward reads N dOut rows and reads+writes N grad rows (C floats each); write-allocate traffic and the id sort are not counted";

    public static void Run(string[] args)
    {
        int threads = Threads.Count;
        int N = B * T;
        double bytes = 5.0 * N * C * sizeof(float);

        var rng = new Rng(1);
        var wte = new TokenEmbedding(V, C);
        wte.Initialize(EmbeddingInit.Gpt2Normal, rng);
        var ids = new int[N];
        for (int n = 0; n < N; n++) ids[n] = rng.NextInt(V);
        var output = new float[N * C];
        var dOut = new float[N * C];
        rng.FillGaussian(dOut, 0, 1);
        // The bandwidth ceiling: copy 2.5·N·C floats (read + write = the same 5·N·C·4 bytes), split like the kernels.
        var source = new float[N * C * 5 / 2];
        var target = new float[source.Length];
        rng.FillGaussian(source, 0, 1);
        const int Units = 64;
        void Copy() => Threads.For(Units, u =>
        {
            int chunk = (source.Length + Units - 1) / Units, lo = u * chunk, len = Math.Min(chunk, source.Length - lo);
            source.AsSpan(lo, len).CopyTo(target.AsSpan(lo, len));
        });

        // TokenSpace, the copy and PyTorch take turns: on a shared host the speed drifts over minutes, and
        // each reports the median of its rounds.
        int rounds = Measure.Option(args, "--rounds", 3);
        List<double> ours = [], forward = [], backward = [], copies = [];
        var torch = new Dictionary<string, List<double>>();
        string? torchError = null, torchVersion = null;
        int torchThreads = 0;
        for (int round = 0; round < rounds; round++)
        {
            ours.Add(Measure.MedianMs(() =>
            {
                wte.Forward(output, ids, B, T);
                wte.Backward(dOut, ids, B, T);
            }, runs: 21, warmup: 3));
            forward.Add(Measure.MedianMs(() => wte.Forward(output, ids, B, T), runs: 21, warmup: 3));
            backward.Add(Measure.MedianMs(() => wte.Backward(dOut, ids, B, T), runs: 21, warmup: 3));
            copies.Add(Measure.MedianMs(Copy, runs: 21, warmup: 3));
            if (torchError is not null) continue;
            var (lines, error) = TorchReference.Run("embedding", $"{V}", $"{C}", $"{B}", $"{T}");
            torchError = error;
            foreach (var line in lines)
            {
                string variant = line.GetProperty("variant").GetString()!;
                (torch.TryGetValue(variant, out var list) ? list : torch[variant] = []).Add(line.GetProperty("median_ms").GetDouble());
                torchVersion = line.GetProperty("torch").GetString();
                torchThreads = line.GetProperty("threads").GetInt32();
            }
        }

        double ms = Measure.Median(ours), copyMs = Measure.Median(copies);
        double gbPerS = bytes / (ms / 1000) / 1e9, copyGbPerS = bytes / (copyMs / 1000) / 1e9;
        Measure.Emit(new
        {
            bench = "embedding_forward_backward", V, C, B, T, threads, ids = "uniform random in [0, V)",
            median_ms = Math.Round(ms, 3), rounds_ms = Rounded(ours), forward_median_ms = Math.Round(Measure.Median(forward), 3), backward_median_ms = Math.Round(Measure.Median(backward), 3),
            ns_per_row = Math.Round(ms * 1e6 / N, 1), gb_per_s = Math.Round(gbPerS, 2), bytes_counted = BytesCounted,
            load_average = Peak.LoadAverage(),
        });
        Measure.Emit(new
        {
            bench = "copy", floats = source.Length, threads, median_ms = Math.Round(copyMs, 3), rounds_ms = Rounded(copies),
            gb_per_s = Math.Round(copyGbPerS, 2), bytes_counted = "read + write of the floats (same total as the embedding line)",
            embedding_share_of_copy = Math.Round(gbPerS / copyGbPerS, 3),
        });

        // `--no-onehot` skips the slow one-hot × Linear line (about 2 × 79 GFLOP per run).
        if (!args.Contains("--no-onehot")) OneHot(threads, wte);

        if (torchError is not null)
        {
            Measure.Emit(new { bench = "torch_embedding_forward_backward", skipped = torchError });
            return;
        }
        foreach (var (variant, values) in torch)
        {
            double torchMs = Measure.Median(values);
            Measure.Emit(new
            {
                bench = "torch_embedding_forward_backward", V, C, B, T, threads = torchThreads, torch = torchVersion, variant,
                median_ms = torchMs, rounds_ms = Rounded(values), gb_per_s = Math.Round(bytes / (torchMs / 1000) / 1e9, 2),
                speedup_vs_torch = Math.Round(torchMs / ms, 2),
                note = variant switch
                {
                    "autograd_dense" => "F.embedding + backward, weight.grad = None each step: torch materialises a zero (V, C) gradient per step, then scatters",
                    "autograd_sparse" => "F.embedding(sparse=True) + backward: the gradient stays a list of N rows, nothing is added into a (V, C) table, so less work than ours",
                    _ => "F.embedding, then grad.index_add_(0, ids, dOut) into a persistent (V, C) gradient: the same computation as ours",
                },
            });
        }
    }

    static double[] Rounded(List<double> values) => [.. values.Select(v => Math.Round(v, 3))];

    /// <summary>The same lookup and dW as one-hot (N, V) × Linear(V → C), at B·T shrunk so it fits and finishes.</summary>
    static void OneHot(int threads, TokenEmbedding wte)
    {
        // At N = 8192 the one-hot matrix alone is 1.6 GB and each direction costs 632 GFLOP; 1024 rows keep it to 206 MB and 79 GFLOP.
        const int Rows = 1024;
        var rng = new Rng(2);
        var ids = new int[Rows];
        for (int n = 0; n < Rows; n++) ids[n] = rng.NextInt(V);
        var onehot = new float[(long)Rows * V];
        for (int n = 0; n < Rows; n++) onehot[(long)n * V + ids[n]] = 1;
        // nn.Linear(V, C) stores its weight (C, V): wteᵀ.
        var weightT = new float[(long)C * V];
        var w = wte.Weight.Span;
        for (int v = 0; v < V; v++)
        {
            for (int c = 0; c < C; c++) weightT[(long)c * V + v] = w[v * C + c];
        }
        var dWeightT = new float[weightT.Length];
        var output = new float[Rows * C];
        var dOut = new float[Rows * C];
        rng.FillGaussian(dOut, 0, 1);
        double ms = Measure.MedianMs(() =>
        {
            MatMul.Forward(output, onehot, weightT, [], Rows, V, C);
            MatMul.Backward([], dWeightT, [], dOut, onehot, weightT, Rows, V, C);
        }, runs: 3, warmup: 1);
        double bytes = 5.0 * Rows * C * sizeof(float);
        Measure.Emit(new
        {
            bench = "onehot_linear_forward_backward", V, C, B = 1, T = Rows, threads,
            shrunk = $"B*T = {Rows} instead of 8192: the (B*T, V) one-hot matrix would take 1.6 GB and 2 x 632 GFLOP per step",
            median_ms = Math.Round(ms, 3), ns_per_row = Math.Round(ms * 1e6 / Rows, 1),
            gb_per_s = Math.Round(bytes / (ms / 1000) / 1e9, 3), bytes_counted = "the embedding line's useful bytes for these rows (" + "5*N*C*4)",
            gflop_per_s = Math.Round(2 * 2.0 * Rows * V * C / (ms / 1000) / 1e9, 1),
        });
    }
}
