namespace TokenSpace.Tensors;

// Legend: N looked-up rows (B·T flattened), V rows in the table, C channels.

/// <summary>Row gather (embedding forward) and its adjoint, the scatter-add (embedding backward).</summary>
public static class Embedding
{
    const int RowsPerUnit = 64;
    const int TableUnits = 64;

    /// <summary>Copies <c>table[ids[n]]</c> into <c>output[n]</c>. Ids must already be checked to lie in [0, V).</summary>
    /// <param name="output">(N, C), overwritten.</param>
    /// <param name="table">(V, C).</param>
    /// <param name="ids">(N).</param>
    public static unsafe void Gather(Span<float> output, ReadOnlySpan<float> table, ReadOnlySpan<int> ids, int C)
    {
        int N = ids.Length;
        fixed (float* pOut = output, pTable = table)
        fixed (int* pIds = ids)
        {
            nint o = (nint)pOut, t = (nint)pTable, id = (nint)pIds;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    new ReadOnlySpan<float>((float*)t + (long)((int*)id)[n] * C, C)
                        .CopyTo(new Span<float>((float*)o + (long)n * C, C));
                }
            });
        }
    }

    /// <summary>
    /// Adds <c>dOut[n]</c> into <c>dTable[ids[n]]</c> for every n. Each thread owns a fixed range of
    /// table rows and adds its rows' gradients in increasing n, so the sums are identical for any
    /// thread count and no two threads write the same row.
    /// </summary>
    /// <param name="dTable">(V, C), accumulated into.</param>
    /// <param name="dOut">(N, C).</param>
    /// <param name="ids">(N), each in [0, V).</param>
    public static unsafe void ScatterAdd(Span<float> dTable, ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int C)
    {
        int N = ids.Length;
        int V = dTable.Length / C;
        int rowsPerUnit = (V + TableUnits - 1) / TableUnits;
        fixed (float* pDt = dTable, pDout = dOut)
        fixed (int* pIds = ids)
        {
            nint dt = (nint)pDt, dout = (nint)pDout, id = (nint)pIds;
            Threads.For(TableUnits, unit =>
            {
                int lo = unit * rowsPerUnit, hi = Math.Min(V, lo + rowsPerUnit);
                for (int n = 0; n < N; n++)
                {
                    int row = ((int*)id)[n];
                    if (row < lo || row >= hi) continue;
                    var dst = new Span<float>((float*)dt + (long)row * C, C);
                    System.Numerics.Tensors.TensorPrimitives.Add(dst, new ReadOnlySpan<float>((float*)dout + (long)n * C, C), dst);
                }
            });
        }
    }

    /// <summary>Plain scalar <see cref="ScatterAdd"/>: the test oracle.</summary>
    public static void ScatterAddScalar(Span<float> dTable, ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int C)
    {
        for (int n = 0; n < ids.Length; n++)
        {
            for (int c = 0; c < C; c++) dTable[ids[n] * C + c] += dOut[n * C + c];
        }
    }
}
