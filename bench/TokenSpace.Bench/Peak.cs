using System.Runtime.Intrinsics;
using TokenSpace.Model;
using TokenSpace.Tensors;

namespace TokenSpace.Bench;

/// <summary>
/// The FMA peak of the cores a benchmark uses, measured by a register-only FMA loop (it sees the clock the cores
/// really run at: turbo, throttling, a busy host), and the model FLOPs a training rate is held against.
/// </summary>
static class Peak
{
    /// <summary>
    /// GFLOP/s of a loop of independent FMAs held in registers, run on <paramref name="threads"/> threads, at the widest vector
    /// the kernels use (Vector512 where accelerated, else Vector256). The width matters: Zen 4 splits a 512-bit FMA over its two
    /// 256-bit pipes (either loop gives 32 flop/cycle), Zen 5 has 512-bit pipes, where a 256-bit loop shows half the peak the
    /// Vector512 kernels reach (a matmul measured at 179 % of it).
    /// </summary>
    public static double Measured(int threads)
    {
        const long Iterations = 50_000_000;
        int lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;
        double best = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            // Threads of their own, released together: a pool that hands both loops to one thread (a worker woken late) would
            // halve the figure, and every MFU beside it would double (1.27 was printed so).
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                if (Vector512.IsHardwareAccelerated) FmaLoop<Vector512<float>, Ops512>(Iterations);
                else FmaLoop<Vector256<float>, Ops256>(Iterations);
            })).ToArray();
            foreach (var worker in workers) worker.Start();
            start.SignalAndWait();
            long began = System.Diagnostics.Stopwatch.GetTimestamp();
            foreach (var worker in workers) worker.Join();
            double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(began).TotalSeconds;
            best = Math.Max(best, threads * Iterations * 8.0 * lanes * 2 / seconds / 1e9);
        }
        return best;
    }

    /// <summary>The loop on the micro-kernel's own vector operations.</summary>
    static unsafe float FmaLoop<TVec, TOps>(long iterations)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        // Eight independent chains cover an FMA latency of 4 cycles on two pipes.
        TVec x = TOps.Broadcast(1.0000001f), y = TOps.Broadcast(0.9999999f);
        TVec a0 = x, a1 = y, a2 = x, a3 = y, a4 = x, a5 = y, a6 = x, a7 = y;
        for (long i = 0; i < iterations; i++)
        {
            a0 = TOps.Fma(a0, x, y); a1 = TOps.Fma(a1, x, y);
            a2 = TOps.Fma(a2, x, y); a3 = TOps.Fma(a3, x, y);
            a4 = TOps.Fma(a4, x, y); a5 = TOps.Fma(a5, x, y);
            a6 = TOps.Fma(a6, x, y); a7 = TOps.Fma(a7, x, y);
        }
        // One lane of each chain, so that none of them is dead code.
        float* lane = stackalloc float[TOps.Count];
        float sum = 0;
        foreach (TVec a in new[] { a0, a1, a2, a3, a4, a5, a6, a7 })
        {
            TOps.Store(a, lane);
            sum += lane[0];
        }
        return sum;
    }

    /// <summary>
    /// Model FLOPs per trained token as nanoGPT's <c>estimate_mfu</c> counts them: 6·N for the matmuls of
    /// forward and backward (N the parameters without wpe, whose lookup costs no multiply) plus 12·L·C·T for
    /// attention's two T-long products per layer, forward and backward.
    /// </summary>
    public static double FlopsPerToken(Gpt gpt, int T)
    {
        var c = gpt.Config;
        long n = gpt.Parameters.Length - (long)c.BlockSize * c.Channels;
        return 6.0 * n + 12.0 * c.Layers * c.Channels * T;
    }

    /// <summary>The share of <paramref name="fmaGflopPerS"/> (the measured FMA loop) that a training rate reaches.</summary>
    public static double Mfu(double tokensPerSecond, double flopsPerToken, double fmaGflopPerS) =>
        Math.Round(tokensPerSecond * flopsPerToken / (fmaGflopPerS * 1e9), 3);

    /// <summary>The 1, 5 and 15 minute load averages (/proc/loadavg): how busy the machine was while measuring.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
