namespace TokenSpace.Tensors;

/// <summary>
/// Per-thread work space for kernels: a kernel keeps its own <c>[ThreadStatic]</c> field and asks here for at least
/// <c>length</c> elements. The buffer only grows (zeroed and pinned when it does, so it can be used through a
/// pointer), so steady-state calls do not allocate.
/// </summary>
static class Scratch
{
    /// <summary><paramref name="buffer"/>, first replaced by a larger one when it holds fewer than <paramref name="length"/>
    /// elements.</summary>
    public static T[] Get<T>(ref T[]? buffer, long length) where T : unmanaged
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer = null; // the old buffer may go before the new one is made
            buffer = GC.AllocateArray<T>(checked((int)length), pinned: true);
        }
        return buffer;
    }
}
