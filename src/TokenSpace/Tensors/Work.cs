namespace TokenSpace.Tensors;

/// <summary>
/// <see cref="Threads.For"/> for kernels whose calls are often tiny (microgpt's 16-channel rows): below
/// about 32k element operations in total, waking a second thread costs more than the work, so the units
/// run inline. The partition into units is the same either way, so results do not change.
/// </summary>
static class Work
{
    const long ParallelThreshold = 1 << 15;

    /// <summary>Runs <paramref name="body"/>(i) for i in [0, units), in parallel when <paramref name="totalWork"/> is worth it.</summary>
    public static void For(int units, long totalWork, Action<int> body)
    {
        if (totalWork < ParallelThreshold)
        {
            for (int i = 0; i < units; i++) body(i);
            return;
        }
        Threads.For(units, body);
    }
}
