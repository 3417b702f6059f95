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

    /// <summary>
    /// Work below which waking a second thread costs more than it saves (microgpt's 16-channel rows): about 32k element
    /// operations or multiply-adds in all.
    /// </summary>
    const long SmallWork = 1 << 15;

    /// <summary>
    /// Whether <see cref="For(int, long, Action{int})"/> would run a loop of <paramref name="work"/> on the calling thread alone: one
    /// thread
    /// allowed, called from inside a loop's body, or too little work.
    /// </summary>
    internal static bool Serial(long work) => count <= 1 || Pool.InLoop || work < SmallWork;

    /// <summary>As <see cref="For(int, long, Action{int})"/> for a loop whose every unit alone is worth a thread.</summary>
    /// <exception cref="Exception">The first exception a body threw, rethrown once every unit has run.</exception>
    public static void For(int units, Action<int> body) => For(units, long.MaxValue, body);

    /// <summary>
    /// Runs <paramref name="body"/>(i) for every unit i in [0, units), in parallel when allowed and
    /// <paramref name="work"/> (the loop's element operations or multiply-adds in all) is worth it. A call
    /// made from inside a running body, or while another thread's loop holds the pool, runs its units in order on the
    /// calling thread. The partition into units is the caller's, the same either way, so results do not change.
    /// </summary>
    /// <exception cref="Exception">The first exception a body threw, rethrown once every unit has run.</exception>
    public static void For(int units, long work, Action<int> body)
    {
        int threads = Math.Min(count, units);
        if (threads <= 1 || Serial(work) || !Monitor.TryEnter(Pool.Gate))
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
    /// Persistent workers. Only the thread holding <see cref="Gate"/> starts a job, and it waits for the
    /// job's units, not for the workers: a worker the OS wakes late finds its units taken and goes back to sleep.
    /// </summary>
    /// <remarks>
    /// Thread t first runs the t-th contiguous share of the units, in order, then takes what is left of the
    /// others' shares from their far ends. Consecutive kernels split their rows alike (a layer norm, then the
    /// product that reads its output, then the activation), so a thread mostly reads rows that it wrote
    /// itself and that are still in its own L2, while a thread slowed by the machine still gets help.
    /// </remarks>
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

        /// <summary>Runs the loop on the calling thread and up to <paramref name="helpers"/> workers; returns when every unit is
        /// done.</summary>
        public static void Run(int units, Action<int> body, int helpers)
        {
            for (; workers < helpers; workers++)
            {
                int share = workers + 1;
                new Thread(() => Serve(share)) { IsBackground = true, Name = "TokenSpace.Threads" }.Start();
            }
            var job = new Job(body, units, helpers + 1);
            Done.Reset();
            current = job;
            Start.Release(helpers);
            job.Drain(0);
            Done.Wait();
            current = null;
            if (job.Error is { } e) ExceptionDispatchInfo.Throw(e);
        }

        static void Serve(int share)
        {
            while (true)
            {
                Start.Wait();
                current?.Drain(share);
            }
        }

        sealed class Job
        {
            /// <summary>Longs between two shares' counters: one cache line each, so claims on one share do not slow the others.</summary>
            const int Stride = 8;
            readonly Action<int> body;
            readonly int units, shares;
            /// <summary>Per share, (next unit from the front) &lt;&lt; 32 | (one past the last unit not yet taken from the back).</summary>
            readonly long[] ranges;
            int completed;

            public Job(Action<int> body, int units, int shares)
            {
                this.body = body;
                this.units = units;
                this.shares = shares;
                ranges = new long[shares * Stride];
                for (int t = 0; t < shares; t++) ranges[t * Stride] = Pack((int)((long)units * t / shares),
                    (int)((long)units * (t + 1) / shares));
            }

            public Exception? Error { get; private set; }

            /// <summary>
            /// Runs the units of share <paramref name="share"/> from its front, then those left in the other shares
            /// from their backs; whoever finishes the last unit of the job signals <see cref="Done"/>.
            /// </summary>
            public void Drain(int share)
            {
                inLoop = true;
                for (int i = 0; i < shares; i++)
                {
                    int t = (share + i) % shares;
                    for (int unit; (unit = Claim(t, fromFront: i == 0 && share < shares)) >= 0;)
                    {
                        try
                        {
                            body(unit);
                        }
                        catch (Exception e)
                        {
                            lock (this) Error ??= e;
                        }
                        if (Interlocked.Increment(ref completed) == units) Done.Set();
                    }
                }
                inLoop = false;
            }

            /// <summary>Takes one unit of share <paramref name="t"/> from its front or its back; −1 when none is left.</summary>
            int Claim(int t, bool fromFront)
            {
                ref long range = ref ranges[t * Stride];
                while (true)
                {
                    long seen = Volatile.Read(ref range);
                    int front = (int)(seen >> 32), back = (int)seen;
                    if (front >= back) return -1;
                    long next = fromFront ? Pack(front + 1, back) : Pack(front, back - 1);
                    if (Interlocked.CompareExchange(ref range, next, seen) == seen) return fromFront ? front : back - 1;
                }
            }

            static long Pack(int front, int back) => (long)front << 32 | (uint)back;
        }
    }
}
