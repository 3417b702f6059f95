using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

public class KernelProfileTests
{
    static long CallsOf(KernelProfile.Part part) => KernelProfile.Totals().Single(t => t.Part == part).Calls;

    [Fact]
    public void Time_KernelsWhileEnabled_CountedInTheirPartsNestedCallsOnce()
    {
        KernelProfile.Enabled = true;
        try
        {
            KernelProfile.Reset();
            var table = new float[4 * 3];
            Embedding.ScatterAdd(table, new float[2 * 3], [1, 2], 3); // calls the other ScatterAdd inside
            MatMul.Forward(new float[2 * 5], new float[2 * 3], new float[5 * 3], [], 2, 3, 5);
            KernelProfile.Enabled = false;
            MatMul.Forward(new float[2 * 5], new float[2 * 3], new float[5 * 3], [], 2, 3, 5);

            Assert.Equal(1, CallsOf(KernelProfile.Part.Embeddings));
            Assert.Equal(1, CallsOf(KernelProfile.Part.MatMulForward));
            Assert.True(KernelProfile.Totals().Single(t => t.Part == KernelProfile.Part.MatMulForward).Time > TimeSpan.Zero);
            Assert.Equal(0, CallsOf(KernelProfile.Part.MatMulBackward));
        }
        finally
        {
            KernelProfile.Enabled = false;
        }
    }

    [Fact]
    public void Totals_AnotherThread_SeesNoneOfThisThreadsTimers()
    {
        KernelProfile.Enabled = true;
        try
        {
            KernelProfile.Reset();
            Relu.Forward(new float[8], new float[8]);
            Assert.Equal(1, CallsOf(KernelProfile.Part.Activations));
            long elsewhere = -1;
            var thread = new Thread(() => elsewhere = CallsOf(KernelProfile.Part.Activations));
            thread.Start();
            thread.Join();
            Assert.Equal(0, elsewhere);
        }
        finally
        {
            KernelProfile.Enabled = false;
        }
    }
}
