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
/// <c>Parallel.For</c> costs several microseconds and a few kilobytes of garbage per call.
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

    /// <summary>
    /// Runs <paramref name="body"/>(i) for every unit i in [0, units), in parallel when allowed. A call
    /// made from inside a running body, or while another thread's loop holds the pool, runs its units
    /// in order on the calling thread.
    /// </summary>
    /// <exception cref="Exception">The first exception a body threw, rethrown after every unit has finished or been skipped.</exception>
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

    /// <summary>Persistent workers that claim units from a shared counter; only the thread holding <see cref="Gate"/> starts a loop.</summary>
    static class Pool
    {
        public static readonly object Gate = new();
        static readonly SemaphoreSlim Start = new(0);
        static readonly ManualResetEventSlim Done = new(false);
        static int workers;
        static Action<int>? job;
        static int jobUnits;
        static int next;
        static int busyHelpers;
        static Exception? error;

        [ThreadStatic] static bool inLoop;

        /// <summary>Whether the current thread is running a unit (so a nested loop must not wait on the pool).</summary>
        public static bool InLoop => inLoop;

        /// <summary>Runs the loop on the calling thread and <paramref name="helpers"/> workers; returns when every unit is done.</summary>
        public static void Run(int units, Action<int> body, int helpers)
        {
            for (; workers < helpers; workers++)
            {
                new Thread(Work) { IsBackground = true, Name = "TokenSpace.Threads" }.Start();
            }
            job = body;
            jobUnits = units;
            next = 0;
            error = null;
            busyHelpers = helpers;
            Done.Reset();
            Start.Release(helpers); // a full fence: the helpers see the fields above
            Drain();
            Done.Wait();
            job = null;
            if (error is { } e) ExceptionDispatchInfo.Throw(e);
        }

        static void Work()
        {
            while (true)
            {
                Start.Wait();
                Drain();
                if (Interlocked.Decrement(ref busyHelpers) == 0) Done.Set();
            }
        }

        static void Drain()
        {
            inLoop = true;
            var body = job!;
            for (int i; (i = Interlocked.Increment(ref next) - 1) < jobUnits;)
            {
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref error, e, null);
                    // Skip the remaining units: the caller rethrows anyway.
                    Interlocked.Exchange(ref next, jobUnits);
                }
            }
            inLoop = false;
        }
    }
}
