using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

[Collection(ProcessWideState.Name)]
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
    public void For_TwoThreads_RunsUnitsOnTwoThreadsAtOnce()
    {
        // Each unit waits (up to 10 s) for the other to start: a serial fallback cannot meet the barrier
        // and leaves one thread id.
        int saved = Threads.Count;
        try
        {
            Threads.Count = 2;
            var ids = new int[2];
            var met = new bool[2];
            using var barrier = new Barrier(2);
            Threads.For(2, i =>
            {
                ids[i] = Environment.CurrentManagedThreadId;
                met[i] = barrier.SignalAndWait(TimeSpan.FromSeconds(10));
            });
            Assert.Equal([true, true], met);
            Assert.Equal(2, ids.Distinct().Count());
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void For_UnitThatWaits_TheOtherThreadTakesTheRestOfItsShare()
    {
        // Two threads split 4 units as [0, 1] and [2, 3]. Unit 2 waits until 0, 1 and 3 are done, so unit 3 must be
        // taken from the far end of the second share by the thread that finished the first (or by whoever runs 2 last).
        int saved = Threads.Count;
        try
        {
            Threads.Count = 2;
            for (int repeat = 0; repeat < 20; repeat++)
            {
                var done = new bool[4];
                using var others = new CountdownEvent(3);
                bool waited = true;
                Threads.For(4, i =>
                {
                    if (i == 2) waited = others.Wait(TimeSpan.FromSeconds(10));
                    done[i] = true;
                    if (i != 2) others.Signal();
                });
                Assert.True(waited);
                Assert.Equal([true, true, true, true], done);
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
