using System.Diagnostics;

namespace TokenSpace.Tensors;

/// <summary>
/// Where a training step's time goes, from the kernels' own timers (<c>tokenspace train --profile</c>): each kernel
/// entry point times itself into its <see cref="Part"/> while <see cref="Enabled"/> is set. Off, a timer costs one
/// branch per kernel call. Everything is per thread: the thread that sets <see cref="Enabled"/> is timed and reads its
/// own <see cref="Totals"/> (a kernel's worker threads run inside its caller's timer). A kernel called from inside
/// another one counts in the outer one's part only.
/// </summary>
public static class KernelProfile
{
    /// <summary>What a timer counts towards.</summary>
    public enum Part
    {
        /// <summary>Linear layers forward (<see cref="MatMul.Forward"/>), the lm head included.</summary>
        MatMulForward,
        /// <summary>Linear layers backward (<see cref="MatMul.Backward"/>).</summary>
        MatMulBackward,
        /// <summary>Causal self-attention forward and backward, rotary positions included.</summary>
        Attention,
        /// <summary>LayerNorm and RMSNorm, forward and backward.</summary>
        Norms,
        /// <summary>GELU and ReLU, forward and backward.</summary>
        Activations,
        /// <summary>Dropout masks and their products.</summary>
        Dropout,
        /// <summary>Softmax cross-entropy forward and backward.</summary>
        Loss,
        /// <summary>Embedding gathers and their gradient scatters.</summary>
        Embeddings,
        /// <summary>Gradient norm, clipping and the AdamW update.</summary>
        Optimizer,
        /// <summary>Zeroing the gradients.</summary>
        Clears,
        /// <summary>Drawing the batch.</summary>
        Data,
    }

    static readonly int Parts = Enum.GetValues<Part>().Length;
    [ThreadStatic] static long[]? ticks;
    [ThreadStatic] static long[]? calls;
    [ThreadStatic] static int depth;
    [ThreadStatic] static bool enabled;

    /// <summary>Whether the timers run on this thread.</summary>
    public static bool Enabled
    {
        get => enabled;
        set
        {
            ticks ??= new long[Parts];
            calls ??= new long[Parts];
            enabled = value;
        }
    }

    /// <summary>Starts a timer for <paramref name="part"/> that stops when disposed (a no-op when off or nested).</summary>
    public static Timer Time(Part part) => enabled && depth == 0 ? new Timer(part) : default;

    /// <summary>This thread's time and calls per part since its last <see cref="Reset"/>, in <see cref="Part"/> order.</summary>
    public static IReadOnlyList<(Part Part, TimeSpan Time, long Calls)> Totals() =>
        Enum.GetValues<Part>().Select(p => (p, Stopwatch.GetElapsedTime(0, ticks?[(int)p] ?? 0), calls?[(int)p] ?? 0)).ToList();

    /// <summary>Sets this thread's time and calls of every part back to zero.</summary>
    public static void Reset()
    {
        if (ticks is not null) Array.Clear(ticks);
        if (calls is not null) Array.Clear(calls);
    }

    /// <summary>A running timer; <see cref="Dispose"/> adds its time to its part.</summary>
    public readonly struct Timer : IDisposable
    {
        readonly long start;
        readonly Part part;

        internal Timer(Part part)
        {
            this.part = part;
            start = Stopwatch.GetTimestamp();
            depth++;
        }

        /// <summary>Stops the timer and counts it (nothing for a timer that did not start).</summary>
        public void Dispose()
        {
            if (start == 0) return;
            depth--;
            ticks![(int)part] += Stopwatch.GetTimestamp() - start;
            calls![(int)part]++;
        }
    }
}
