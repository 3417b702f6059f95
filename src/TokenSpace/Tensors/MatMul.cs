using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace TokenSpace.Tensors;

// Legend (llm.c): N rows of input (B·T flattened), C input channels, OC output channels.
// W is stored (OC, C), row oc holding the weights of output channel oc, so both the forward dot
// products and the dW rows run over contiguous memory.

/// <summary>The fully connected layer <c>out = inp · Wᵀ + b</c> and its gradients, in the llm.c layout.</summary>
public static class MatMul
{
    /// <summary>
    /// Computes <c>output[n, oc] = bias[oc] + Σ_c input[n, c] · weight[oc, c]</c>, each sum taken in
    /// increasing c with fused multiply-adds (so it can differ from <see cref="ForwardScalar"/> in the
    /// last bits). The result does not depend on <see cref="Threads.Count"/>.
    /// </summary>
    /// <param name="output">(N, OC), overwritten.</param>
    /// <param name="input">(N, C).</param>
    /// <param name="weight">(OC, C).</param>
    /// <param name="bias">(OC), or empty for no bias.</param>
    /// <exception cref="ArgumentException">A span's length does not match N, C, OC.</exception>
    public static unsafe void Forward(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, int N, int C, int OC)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.MatMulForward);
        CheckShapes(output.Length, input.Length, weight.Length, bias.Length, N, C, OC);
        fixed (float* pOut = output, pInp = input, pW = weight, pB = bias)
        {
            // B[k = c, j = oc] = weight[oc, c]: the packing transposes W so the kernel reads it along oc.
            Gemm.Run(pOut, OC, pInp, C, 1, pW, 1, C, pB, accumulate: false, N, C, OC);
        }
    }

    /// <summary>
    /// <paramref name="weight"/> (OC, C) packed once into the panels <see cref="Forward"/> builds on every call, for
    /// <see cref="ForwardPacked"/>: products of a row or two (decoding a token) would otherwise spend most of their time packing.
    /// </summary>
    /// <exception cref="ArgumentException">The weight is not OC × C.</exception>
    public static unsafe float[] Pack(ReadOnlySpan<float> weight, int C, int OC)
    {
        if (weight.Length != (long)OC * C) ThrowShape("weight", weight.Length, (long)OC * C);
        var packed = new float[Gemm.PackedLength(C, OC)];
        fixed (float* pW = weight, pPacked = packed) Gemm.Pack(pPacked, pW, 1, C, C, OC);
        return packed;
    }

    /// <summary><see cref="Forward"/> with the weight given as <see cref="Pack"/> made it: the same sums in the same order, bit for
    /// bit.</summary>
    /// <param name="output">(N, OC), overwritten.</param>
    /// <param name="input">(N, C).</param>
    /// <param name="packed">From <see cref="Pack"/> of an (OC, C) weight.</param>
    /// <param name="bias">(OC), or empty for no bias.</param>
    /// <exception cref="ArgumentException">A span's length does not match N, C, OC.</exception>
    public static unsafe void ForwardPacked(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> packed,
        ReadOnlySpan<float> bias,
        int N, int C, int OC)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.MatMulForward);
        CheckShapes(output.Length, input.Length, OC * C, bias.Length, N, C, OC);
        if (packed.Length != Gemm.PackedLength(C, OC)) ThrowShape("packed", packed.Length, Gemm.PackedLength(C, OC));
        // Forward starts every sum at the bias; here the output holds it and the product accumulates onto it.
        for (int n = 0; n < N; n++)
        {
            if (bias.IsEmpty) output.Slice(n * OC, OC).Clear();
            else bias.CopyTo(output.Slice(n * OC, OC));
        }
        fixed (float* pOut = output, pInp = input, pPacked = packed)
        {
            if (N == 1) Gemm.RunPackedRow(pOut, pInp, pPacked, (long)C * Gemm.PanelWidth, C, OC);
            else Gemm.RunPacked(pOut, OC, pInp, C, 1, pPacked, (long)C * Gemm.PanelWidth, Gemm.PanelWidth, accumulate: true, N, C, OC);
        }
    }

    /// <summary>
    /// Adds the gradients of <see cref="Forward"/>: <c>dInput += dOut · W</c> (or <c>dInput = dOut · W</c> when
    /// <paramref name="accumulateInput"/> is false, which spares reading a buffer that would only hold zeros),
    /// <c>dWeight += dOutᵀ · input</c>, <c>dBias += Σ_n dOut[n]</c>. Any of the three destinations may be empty to skip it. Every sum runs
    /// in the same order as in <see cref="BackwardScalar"/> (increasing oc for dInput, increasing n for
    /// dWeight and dBias), with fused multiply-adds; the result does not depend on <see cref="Threads.Count"/>.
    /// </summary>
    /// <param name="dInput">(N, C), accumulated into (or overwritten, see <paramref name="accumulateInput"/>).</param>
    /// <param name="dWeight">(OC, C), accumulated into.</param>
    /// <param name="dBias">(OC), accumulated into.</param>
    /// <param name="dOut">(N, OC).</param>
    /// <param name="input">(N, C).</param>
    /// <param name="weight">(OC, C).</param>
    /// <exception cref="ArgumentException">A span's length does not match N, C, OC.</exception>
    public static unsafe void Backward(Span<float> dInput, Span<float> dWeight, Span<float> dBias,
        ReadOnlySpan<float> dOut, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int N, int C, int OC, bool accumulateInput = true)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.MatMulBackward);
        CheckShapes(dOut.Length, input.Length, weight.Length, dBias.Length, N, C, OC);
        if (!dInput.IsEmpty && dInput.Length != (long)N * C) ThrowShape(nameof(dInput), dInput.Length, (long)N * C);
        if (!dWeight.IsEmpty && dWeight.Length != (long)OC * C) ThrowShape(nameof(dWeight), dWeight.Length, (long)OC * C);
        fixed (float* pDin = dInput, pDw = dWeight, pDb = dBias, pDout = dOut, pInp = input, pW = weight)
        {
            // dInput (N, C) += dOut (N, OC) · W (OC, C): A = dOut by rows, B[k = oc, j = c] = W[oc, c].
            if (!dInput.IsEmpty) Gemm.Run(pDin, C, pDout, OC, 1, pW, C, 1, null, accumulateInput, N, OC, C);
            // dWeight (OC, C) += dOutᵀ (OC, N) · input (N, C): A[oc, n] = dOut[n, oc], B[k = n, j = c] = input[n, c].
            if (!dWeight.IsEmpty) Gemm.Run(pDw, C, pDout, 1, OC, pInp, C, 1, null, accumulate: true, OC, N, C);
            if (!dBias.IsEmpty) BiasBackward(pDb, pDout, N, OC);
        }
    }

    /// <summary>
    /// dBias[oc] += Σ_n dOut[n, oc], each column one chain in increasing n: a unit holds four vectors of columns in registers while
    /// the rows pass; the last, narrower unit adds row by row. Summing through memory, which loaded and stored dBias for every row,
    /// measured (2 threads, Zen 5, dOut in cache) 62 -> 15 µs at N 2048 OC 384 and 79 -> 33 µs at OC 512.
    /// </summary>
    static unsafe void BiasBackward(float* dBias, float* dOut, int N, int OC)
    {
        if (Vector512.IsHardwareAccelerated) BiasBackward<Vector512<float>, Ops512>(dBias, dOut, N, OC);
        else if (Vector256.IsHardwareAccelerated) BiasBackward<Vector256<float>, Ops256>(dBias, dOut, N, OC);
        else BiasBackward<float, OpsScalar>(dBias, dOut, N, OC);
    }

    /// <summary><see cref="BiasBackward(float*, float*, int, int)"/> at one vector width (tests call every width the CPU supports).</summary>
    internal static unsafe void BiasBackward<TVec, TOps>(float* dBias, float* dOut, int N, int OC)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        int W = TOps.Count, columnsPerUnit = 4 * W;
        nint db = (nint)dBias, dout = (nint)dOut;
        Threads.For((OC + columnsPerUnit - 1) / columnsPerUnit, unit =>
        {
            int lo = unit * columnsPerUnit, width = Math.Min(OC - lo, columnsPerUnit);
            float* dst = (float*)db + lo, src = (float*)dout + lo;
            if (width == columnsPerUnit)
            {
                TVec s0 = TOps.Load(dst), s1 = TOps.Load(dst + W), s2 = TOps.Load(dst + 2 * W), s3 = TOps.Load(dst + 3 * W);
                for (int n = 0; n < N; n++, src += OC)
                {
                    s0 = TOps.Add(s0, TOps.Load(src));
                    s1 = TOps.Add(s1, TOps.Load(src + W));
                    s2 = TOps.Add(s2, TOps.Load(src + 2 * W));
                    s3 = TOps.Add(s3, TOps.Load(src + 3 * W));
                }
                TOps.Store(s0, dst); TOps.Store(s1, dst + W); TOps.Store(s2, dst + 2 * W); TOps.Store(s3, dst + 3 * W);
            }
            else
            {
                var sums = new Span<float>(dst, width);
                for (int n = 0; n < N; n++, src += OC) TensorPrimitives.Add(sums, new ReadOnlySpan<float>(src, width), sums);
            }
        });
    }

    /// <summary>Plain scalar <see cref="Forward"/>: the test oracle.</summary>
    public static void ForwardScalar(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, int N, int C, int OC)
    {
        for (int n = 0; n < N; n++)
        {
            for (int oc = 0; oc < OC; oc++)
            {
                float sum = bias.IsEmpty ? 0f : bias[oc];
                for (int c = 0; c < C; c++) sum += input[n * C + c] * weight[oc * C + c];
                output[n * OC + oc] = sum;
            }
        }
    }

    /// <summary>Plain scalar <see cref="Backward"/>: the test oracle.</summary>
    public static void BackwardScalar(Span<float> dInput, Span<float> dWeight, Span<float> dBias,
        ReadOnlySpan<float> dOut, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int N, int C, int OC)
    {
        for (int n = 0; n < N; n++)
        {
            for (int oc = 0; oc < OC; oc++)
            {
                float g = dOut[n * OC + oc];
                if (!dBias.IsEmpty) dBias[oc] += g;
                for (int c = 0; c < C; c++)
                {
                    if (!dInput.IsEmpty) dInput[n * C + c] += weight[oc * C + c] * g;
                    if (!dWeight.IsEmpty) dWeight[oc * C + c] += input[n * C + c] * g;
                }
            }
        }
    }

    static void CheckShapes(int outLength, int inLength, int wLength, int biasLength, int N, int C, int OC)
    {
        if (outLength != (long)N * OC) ThrowShape("output", outLength, (long)N * OC);
        if (inLength != (long)N * C) ThrowShape("input", inLength, (long)N * C);
        if (wLength != (long)OC * C) ThrowShape("weight", wLength, (long)OC * C);
        if (biasLength != 0 && biasLength != OC) ThrowShape("bias", biasLength, OC);
    }

    static void ThrowShape(string name, long actual, long expected) =>
        throw new ArgumentException($"{name} has {actual} elements, expected {expected}", name);
}
