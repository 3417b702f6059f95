namespace TokenSpace.Tensors;

// Legend: N elements.

/// <summary>The rectifier <c>out = max(x, 0)</c> (microgpt's MLP activation).</summary>
public static class Relu
{
    /// <summary>Applies ReLU elementwise.</summary>
    /// <param name="output">(N), overwritten.</param>
    /// <param name="input">(N).</param>
    public static void Forward(Span<float> output, ReadOnlySpan<float> input)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Activations);
        System.Numerics.Tensors.TensorPrimitives.Max(input, 0f, output);
    }

    /// <summary>
    /// Adds <c>dOut</c> into <paramref name="dInput"/> where the input was positive (the subgradient at 0 is 0,
    /// as PyTorch), or writes it there (and 0 elsewhere) when <paramref name="accumulate"/> is false;
    /// <paramref name="dInput"/> may then be <paramref name="dOut"/> itself.
    /// </summary>
    /// <param name="dInput">(N), accumulated into or overwritten.</param>
    /// <param name="input">(N), the forward input.</param>
    /// <param name="dOut">(N).</param>
    public static void Backward(Span<float> dInput, ReadOnlySpan<float> input, ReadOnlySpan<float> dOut, bool accumulate = true)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Activations);
        for (int i = 0; i < input.Length; i++)
        {
            float d = input[i] > 0f ? dOut[i] : 0f;
            dInput[i] = accumulate ? dInput[i] + d : d;
        }
    }
}
