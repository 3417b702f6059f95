using System.Runtime.ExceptionServices;

namespace TokenSpace.Tensors;

/// <summary>
/// The process-wide thread setting (<c>--threads</c>, default all cores) and the one parallel loop
/// every kernel uses. Kernels split their <em>outputs</em> into a fixed number of units that does
/// not depend on <see cref="Count"/>; each unit is computed whole by one thread in a fixed order,
/// so results are bit-identical for any thread count.
/// </summary>
/// <remarks>
/// The loop runs on a small pool of persistent worker threads rather than <see cref="Parallel"/>:
/// a training step makes hundreds of kernel calls, many of them microseconds long, and
/// <c>Parallel.For</c> costs tens of microseconds and about 3 KB of garbage per call on a busy machine
/// (measured on 2 cores: 20–60 µs against 1–2 µs for this loop, at 8 tiny units).
/// </remarks>
public static class Threads
{
    static int count = Environment.ProcessorCount;

    /// <summary>How many threads kernels may use. At least 1.</summary>
    public static int Count
    {
        get => count;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            count = value;
        }
    }

    /// <summary>Whether <see cref="For"/> would run on the calling thread alone (one thread allowed, or called from inside a loop's body).</summary>
    internal static bool Serial => count <= 1 || Pool.InLoop;

    /// <summary>
    /// Runs <paramref name="body"/>(i) for every unit i in [0, units), in parallel when allowed. A call
    /// made from inside a running body, or while another thread's loop holds the pool, runs its units
    /// in order on the calling thread.
    /// </summary>
    /// <exception cref="Exception">The first exception a body threw, rethrown once every unit has run.</exception>
    public static void For(int units, Action<int> body)
    {
        int threads = Math.Min(count, units);
        if (threads <= 1 || Pool.InLoop || !Monitor.TryEnter(Pool.Gate))
        {
            for (int i = 0; i < units; i++) body(i);
            return;
        }
        try
        {
            Pool.Run(units, body, threads - 1);
        }
        finally
        {
            Monitor.Exit(Pool.Gate);
        }
    }

    /// <summary>
    /// Persistent workers that claim units of the current job from a shared counter. Only the thread
    /// holding <see cref="Gate"/> starts a job, and it waits for the job's units, not for the workers:
    /// a worker the OS wakes late finds every unit of its job taken and goes back to sleep.
    /// </summary>
    static class Pool
    {
        public static readonly object Gate = new();
        static readonly SemaphoreSlim Start = new(0);
        static readonly ManualResetEventSlim Done = new(false);
        static int workers;
        static volatile Job? current;

        [ThreadStatic] static bool inLoop;

        /// <summary>Whether the current thread is running a unit (so a nested loop must not wait on the pool).</summary>
        public static bool InLoop => inLoop;

        /// <summary>Runs the loop on the calling thread and up to <paramref name="helpers"/> workers; returns when every unit is done.</summary>
        public static void Run(int units, Action<int> body, int helpers)
        {
            for (; workers < helpers; workers++)
            {
                new Thread(Work) { IsBackground = true, Name = "TokenSpace.Threads" }.Start();
            }
            var job = new Job(body, units);
            Done.Reset();
            current = job;
            Start.Release(helpers);
            job.Drain();
            Done.Wait();
            current = null;
            if (job.Error is { } e) ExceptionDispatchInfo.Throw(e);
        }

        static void Work()
        {
            while (true)
            {
                Start.Wait();
                current?.Drain();
            }
        }

        sealed class Job(Action<int> body, int units)
        {
            int next = -1;
            int completed;

            public Exception? Error { get; private set; }

            /// <summary>Claims and runs units until none is left; whoever finishes the last one signals <see cref="Done"/>.</summary>
            public void Drain()
            {
                inLoop = true;
                for (int i; (i = Interlocked.Increment(ref next)) < units;)
                {
                    try
                    {
                        body(i);
                    }
                    catch (Exception e)
                    {
                        lock (this) Error ??= e;
                    }
                    if (Interlocked.Increment(ref completed) == units) Done.Set();
                }
                inLoop = false;
            }
        }
    }
}
