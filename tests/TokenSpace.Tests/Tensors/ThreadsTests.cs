using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

public class ThreadsTests
{
    [Fact]
    public void For_AnyThreadCount_RunsEveryUnitOnce()
    {
        int saved = Threads.Count;
        try
        {
            foreach (int threads in new[] { 1, 2, 5 })
            {
                Threads.Count = threads;
                var hits = new int[37];
                Threads.For(hits.Length, i => Interlocked.Increment(ref hits[i]));
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void Count_Zero_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => Threads.Count = 0);
}
