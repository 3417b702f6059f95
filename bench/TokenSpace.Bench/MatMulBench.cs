using TokenSpace.Tensors;

namespace TokenSpace.Bench;

/// <summary>
/// <c>matmul [N] [--no-torch]</c>: MatMul forward and backward (and its dInput and dWeight products apart) at N 8192, C 768,
/// OC 3072 (GPT-2's MLP up-projection at B·T = 8192), beside PyTorch's.
/// </summary>
static class MatMulBench
{
    public static void Run(string[] args)
    {
        int N = args.Length > 0 && !args[0].StartsWith('-') ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 8192;
        const int C = 768, OC = 3072;
        int threads = Threads.Count;
        var rng = new Rng(1);
        var input = new float[(long)N * C];
        var weight = new float[(long)OC * C];
        var bias = new float[OC];
        var output = new float[(long)N * OC];
        rng.FillGaussian(input, 0, 1);
        rng.FillGaussian(weight, 0, 0.02);
        rng.FillGaussian(bias, 0, 0.02);
        var dInput = new float[input.Length];
        var dWeight = new float[weight.Length];
        var dBias = new float[OC];

        double measuredPeak = Peak.Measured(threads);
        double flops = 2.0 * N * C * OC;
        string load = Peak.LoadAverage();

        double forwardMs = Measure.MedianMs(() => MatMul.Forward(output, input, weight, bias, N, C, OC), runs: 7, warmup: 1);
        // Backward computes dInput and dWeight (each 2·N·C·OC flops) and dBias (N·OC adds, not counted).
        double backwardMs = Measure.MedianMs(() => MatMul.Backward(dInput, dWeight, dBias, output, input, weight, N, C, OC), runs: 5, warmup: 1);
        // Its two products apart: dInput reads dOut by rows, dWeight reads it down the columns (A transposed).
        double dInputMs = Measure.MedianMs(() => MatMul.Backward(dInput, [], [], output, input, weight, N, C, OC), runs: 5, warmup: 1);
        double dWeightMs = Measure.MedianMs(() => MatMul.Backward([], dWeight, [], output, input, weight, N, C, OC), runs: 5, warmup: 1);
        // The loop is measured before and after the kernels and the better figure kept: on a shared
        // machine it is the clock the kernels could have had, so the fraction below errs low.
        measuredPeak = Math.Max(measuredPeak, Peak.Measured(threads));
        Emit("matmul_forward", forwardMs, flops);
        Emit("matmul_backward", backwardMs, 2 * flops);
        Emit("matmul_backward_dinput", dInputMs, flops);
        Emit("matmul_backward_dweight", dWeightMs, flops);

        if (args.Contains("--no-torch")) return;
        var (lines, error) = TorchReference.Run("matmul", $"{N}", $"{C}", $"{OC}");
        if (error is not null) Measure.Emit(new { bench = "torch_matmul", skipped = error });
        foreach (var line in lines)
        {
            double torchMs = line.GetProperty("median_ms").GetDouble();
            bool forward = line.GetProperty("bench").GetString() == "torch_matmul_forward";
            Measure.Emit(new
            {
                bench = line.GetProperty("bench").GetString(), N, C, OC, threads = line.GetProperty("threads").GetInt32(),
                torch = line.GetProperty("torch").GetString(), median_ms = torchMs,
                gflop_per_s = line.GetProperty("gflop_per_s").GetDouble(),
                speedup_vs_torch = Math.Round(torchMs / (forward ? forwardMs : backwardMs), 2),
            });
        }

        void Emit(string bench, double ms, double flopCount)
        {
            double gflops = flopCount / (ms / 1000) / 1e9;
            Measure.Emit(new
            {
                bench,
                N,
                C,
                OC,
                threads,
                median_ms = Math.Round(ms, 3),
                gflop_per_s = Math.Round(gflops, 1),
                // The peak is measured, not computed from /proc/cpuinfo: in a VM its cpu MHz is the base clock, and the flops a
                // cycle differ by core (Zen 4 runs a 512-bit FMA on two 256-bit pipes, Zen 5 on 512-bit ones): the nominal figure
                // printed 301 % on Zen 5.
                measured_fma_loop_gflop_per_s = Math.Round(measuredPeak, 1),
                measured_peak_fraction = Math.Round(gflops / measuredPeak, 3),
                load_average = load,
                simd = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "Vector256" : "scalar",
            });
        }
    }
}
