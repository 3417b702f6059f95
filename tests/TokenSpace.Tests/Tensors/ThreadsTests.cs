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
                for (int repeat = 0; repeat < 50; repeat++)
                {
                    var hits = new int[37];
                    Threads.For(hits.Length, i => Interlocked.Increment(ref hits[i]));
                    Assert.All(hits, h => Assert.Equal(1, h));
                }
            }
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void For_Nested_RunsEveryInnerUnitOnce()
    {
        var hits = new int[8 * 9];
        Threads.For(8, i => Threads.For(9, j => Interlocked.Increment(ref hits[i * 9 + j])));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void For_BodyThrows_RethrowsTheExceptionAndStaysUsable()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Threads.For(20, i =>
        {
            if (i == 13) throw new InvalidOperationException("unit 13 failed");
        }));
        Assert.Equal("unit 13 failed", ex.Message);
        var hits = new int[20];
        Threads.For(hits.Length, i => Interlocked.Increment(ref hits[i]));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Count_Zero_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => Threads.Count = 0);
}
