using System.Globalization;
using TokenSpace.Evaluation;

namespace TokenSpace.Formats;

/// <summary>Reads the snapshots <c>train --snapshot-every N</c> saves (<c>snapshots/step-NNNNNN.safetensors</c>) as formation frames.</summary>
public static class SnapshotFrames
{
    /// <summary>
    /// One snapshot: <c>wte.weight</c> (V, C), <c>wpe.weight</c> (T, C) when positions were learned, and the metadata
    /// <c>step</c> and <c>train_loss</c> (absent in the first frame and in snapshots older than the formation metrics).
    /// </summary>
    /// <example><code>var frame = SnapshotFrames.Load("out/train/snapshots/step-000500.safetensors");</code></example>
    /// <exception cref="FileFormatException">Not a snapshot: no 2-D wte, a wpe of another width, or a step that is not a number.</exception>
    public static FormationFrame Load(string path)
    {
        var file = SafetensorsFile.Open(path);
        if (!file.Entries.TryGetValue("wte.weight", out var wte) || wte.Shape.Length != 2)
            throw new FileFormatException(path, "expected a 2-D tensor wte.weight (V, C); is this a training snapshot?");
        int channels = checked((int)wte.Shape[1]);
        float[]? wpe = null;
        if (file.Entries.TryGetValue("wpe.weight", out var positions))
        {
            if (positions.Shape.Length != 2 || positions.Shape[1] != channels)
                throw new FileFormatException(path, $"wpe.weight has shape [{string.Join(", ", positions.Shape)}]; expected (T, {channels}) as wte");
            wpe = file.ReadFloat32("wpe.weight");
        }
        if (!file.Metadata.TryGetValue("step", out string? stepText) || !int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out int step))
            throw new FileFormatException(path, $"metadata 'step' is {(stepText is null ? "missing" : $"'{stepText}'")}; expected the number of steps taken");
        double? loss = null;
        if (file.Metadata.TryGetValue("train_loss", out string? lossText))
        {
            loss = double.TryParse(lossText, NumberStyles.Float, CultureInfo.InvariantCulture, out double l) && double.IsFinite(l) ? l
                : throw new FileFormatException(path, $"metadata 'train_loss' is '{lossText}'; expected a finite number");
        }
        return new FormationFrame(step, file.ReadFloat32("wte.weight"), wpe, channels, loss);
    }
}
