using System.Numerics.Tensors;

namespace TokenSpace.Tensors;

// Legend (llm.c): N rows of input (B·T flattened), C input channels, OC output channels.
// W is stored (OC, C), row oc holding the weights of output channel oc, so both the forward dot
// products and the dW rows run over contiguous memory.

/// <summary>The fully connected layer <c>out = inp · Wᵀ + b</c> and its gradients, in the llm.c layout.</summary>
public static class MatMul
{
    const int RowsPerUnit = 8;

    /// <summary>
    /// Computes <c>output[n, oc] = bias[oc] + Σ_c input[n, c] · weight[oc, c]</c>.
    /// </summary>
    /// <param name="output">(N, OC), overwritten.</param>
    /// <param name="input">(N, C).</param>
    /// <param name="weight">(OC, C).</param>
    /// <param name="bias">(OC), or empty for no bias.</param>
    public static unsafe void Forward(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, int N, int C, int OC)
    {
        CheckShapes(output.Length, input.Length, weight.Length, bias.Length, N, C, OC);
        fixed (float* pOut = output, pInp = input, pW = weight, pB = bias)
        {
            nint o = (nint)pOut, x = (nint)pInp, w = (nint)pW, b = (nint)pB;
            bool hasBias = !bias.IsEmpty;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    var row = new ReadOnlySpan<float>((float*)x + (long)n * C, C);
                    var dst = new Span<float>((float*)o + (long)n * OC, OC);
                    for (int oc = 0; oc < OC; oc++)
                    {
                        float dot = TensorPrimitives.Dot(row, new ReadOnlySpan<float>((float*)w + (long)oc * C, C));
                        dst[oc] = hasBias ? dot + ((float*)b)[oc] : dot;
                    }
                }
            });
        }
    }

    /// <summary>
    /// Adds the gradients of <see cref="Forward"/>: <c>dInput += dOut · W</c>, <c>dWeight += dOutᵀ · input</c>,
    /// <c>dBias += Σ_n dOut[n]</c>. Any of the three destinations may be empty to skip it.
    /// </summary>
    /// <param name="dInput">(N, C), accumulated into.</param>
    /// <param name="dWeight">(OC, C), accumulated into.</param>
    /// <param name="dBias">(OC), accumulated into.</param>
    /// <param name="dOut">(N, OC).</param>
    /// <param name="input">(N, C).</param>
    /// <param name="weight">(OC, C).</param>
    public static unsafe void Backward(Span<float> dInput, Span<float> dWeight, Span<float> dBias,
        ReadOnlySpan<float> dOut, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int N, int C, int OC)
    {
        CheckShapes(dOut.Length, input.Length, weight.Length, dBias.Length, N, C, OC);
        if (!dInput.IsEmpty && dInput.Length != (long)N * C) ThrowShape(nameof(dInput), dInput.Length, (long)N * C);
        if (!dWeight.IsEmpty && dWeight.Length != (long)OC * C) ThrowShape(nameof(dWeight), dWeight.Length, (long)OC * C);
        fixed (float* pDin = dInput, pDw = dWeight, pDb = dBias, pDout = dOut, pInp = input, pW = weight)
        {
            nint din = (nint)pDin, dw = (nint)pDw, db = (nint)pDb, dout = (nint)pDout, x = (nint)pInp, w = (nint)pW;
            if (din != 0)
            {
                // dInput rows are independent: each unit owns RowsPerUnit rows.
                Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, unit =>
                {
                    int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                    for (int n = unit * RowsPerUnit; n < end; n++)
                    {
                        var dst = new Span<float>((float*)din + (long)n * C, C);
                        float* g = (float*)dout + (long)n * OC;
                        for (int oc = 0; oc < OC; oc++)
                        {
                            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)w + (long)oc * C, C), g[oc], dst, dst);
                        }
                    }
                });
            }
            if (dw != 0 || db != 0)
            {
                // dWeight rows and dBias entries are owned by output channel; the sum over n runs in order.
                Threads.For((OC + RowsPerUnit - 1) / RowsPerUnit, unit =>
                {
                    int end = Math.Min(OC, (unit + 1) * RowsPerUnit);
                    for (int oc = unit * RowsPerUnit; oc < end; oc++)
                    {
                        for (int n = 0; n < N; n++)
                        {
                            float g = ((float*)dout)[(long)n * OC + oc];
                            if (db != 0) ((float*)db)[oc] += g;
                            if (dw != 0)
                            {
                                var dst = new Span<float>((float*)dw + (long)oc * C, C);
                                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)x + (long)n * C, C), g, dst, dst);
                            }
                        }
                    }
                });
            }
        }
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
