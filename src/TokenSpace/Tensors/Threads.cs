namespace TokenSpace.Tensors;

/// <summary>
/// The process-wide thread setting (<c>--threads</c>, default all cores) and the one parallel loop
/// every kernel uses. Kernels split their <em>outputs</em> into a fixed number of units that does
/// not depend on <see cref="Count"/>; each unit is computed whole by one thread in a fixed order,
/// so results are bit-identical for any thread count.
/// </summary>
public static class Threads
{
    static int count = Environment.ProcessorCount;
    static ParallelOptions options = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>How many threads kernels may use. At least 1.</summary>
    public static int Count
    {
        get => count;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            count = value;
            options = new ParallelOptions { MaxDegreeOfParallelism = value };
        }
    }

    /// <summary>Runs <paramref name="body"/>(i) for every unit i in [0, units), in parallel when allowed.</summary>
    public static void For(int units, Action<int> body)
    {
        if (count == 1 || units <= 1)
        {
            for (int i = 0; i < units; i++) body(i);
            return;
        }
        Parallel.For(0, units, options, body);
    }
}
