using System.Globalization;
using System.Text.RegularExpressions;
using TokenSpace.Evaluation;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tokenization;
using TokenSpace.Vectors;

namespace TokenSpace.Training;

/// <summary>One saved frame of a run: the step it was taken before, and its file.</summary>
public readonly record struct Snapshot(int Step, string Path)
{
    /// <summary>
    /// The frame's <c>wte</c> (keys: the token texts of the run's tokenizer) or <c>wpe</c> (keys <c>pos:0</c>, …)
    /// as vectors.
    /// </summary>
    /// <exception cref="FileFormatException">The frame or the snapshots' tokenizer is malformed.</exception>
    public KeyedVectors Load(string tensor = "wte") =>
        VectorsFile.Load(Path, VectorFormat.Safetensors, new VectorsLoadOptions { Tensor = tensor });

    /// <summary>
    /// The frame for formation metrics: <c>wte.weight</c> (V, C), <c>wpe.weight</c> (T, C) when positions were learned,
    /// and the metadata <c>step</c> and <c>train_loss</c> (absent in the first frame and in older snapshots).
    /// </summary>
    /// <exception cref="FileFormatException">Not a snapshot: no 2-D wte, a wpe of another width, or a step that is not a
    /// number.</exception>
    public FormationFrame LoadFrame()
    {
        var file = SafetensorsFile.Open(Path);
        if (!file.Entries.TryGetValue("wte.weight", out var wte) || wte.Shape.Length != 2)
            throw new FileFormatException(Path, "expected a 2-D tensor wte.weight (V, C); is this a training snapshot?");
        int channels = checked((int)wte.Shape[1]);
        float[]? wpe = null;
        if (file.Entries.TryGetValue("wpe.weight", out var positions))
        {
            if (positions.Shape.Length != 2 || positions.Shape[1] != channels)
                throw new FileFormatException(Path,
                    $"wpe.weight has shape [{string.Join(", ", positions.Shape)}]; expected (T, {channels}) as wte");
            wpe = file.ReadFloat32("wpe.weight");
        }
        if (!file.Metadata.TryGetValue("step", out string? stepText)
            || !int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out int step))
            throw new FileFormatException(Path,
                $"metadata 'step' is {(stepText is null ? "missing" : $"'{stepText}'")}; expected the number of steps taken");
        return new FormationFrame(step, file.ReadFloat32("wte.weight"), wpe, channels, TrainLoss(file));
    }

    /// <summary>The metadata <c>train_loss</c> (the loss of the steps before this frame) without reading tensors; null if absent.</summary>
    /// <exception cref="FileFormatException">Not a safetensors file, or a loss that is not a finite number.</exception>
    public double? LoadTrainLoss() => TrainLoss(SafetensorsFile.Open(Path));

    double? TrainLoss(SafetensorsFile file)
    {
        if (!file.Metadata.TryGetValue("train_loss", out string? text)) return null;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double loss) && double.IsFinite(loss) ? loss
            : throw new FileFormatException(Path, $"metadata 'train_loss' is '{text}'; expected a finite number");
    }
}

/// <summary>
/// The embeddings of a run as they form: <c>RUN/snapshots/step-NNNNNN.safetensors</c> holds <c>wte.weight</c>
/// (V, C) and, when positions are learned, <c>wpe.weight</c> (block_size, C) as they were before step NNNNNN (metadata <c>step</c>), beside
/// <c>RUN/snapshots/tokenizer.json</c> (+ GPT-2's vocabulary files), whose ids index wte's rows.
/// </summary>
public static partial class Snapshots
{

    /// <summary>The formation metrics <c>train --snapshot-every</c> appends beside the frames, one JSON line a frame.</summary>
    public const string FormationLogName = "formation.jsonl";

    /// <summary>The snapshots folder of the run in <paramref name="run"/>.</summary>
    public static string Folder(string run) => System.IO.Path.Combine(run, Checkpoint.SnapshotsDir);

    /// <summary>The file of the frame taken before step <paramref name="step"/>.</summary>
    public static string FramePath(string run, int step) =>
        System.IO.Path.Combine(Folder(run), string.Create(CultureInfo.InvariantCulture, $"step-{step:D6}.safetensors"));

    /// <summary>
    /// Writes the frame of <paramref name="model"/> before step <paramref name="step"/> (metadata <c>step</c>, and
    /// <c>train_loss</c> when <paramref name="trainLoss"/> is given), and the tokenizer beside it (rewritten every time,
    /// atomically: a frame must never sit beside another run's tokenizer).
    /// </summary>
    public static void Save(string run, int step, Gpt model, ITokenizer tokenizer, double? trainLoss = null)
    {
        var metadata = new Dictionary<string, string> { ["step"] = step.ToString(CultureInfo.InvariantCulture) };
        if (trainLoss is { } loss) metadata["train_loss"] = loss.ToString("R", CultureInfo.InvariantCulture);
        Directory.CreateDirectory(Folder(run));
        tokenizer.SaveInto(Folder(run));
        var c = model.Config;
        var tensors = new List<(string, long[], ReadOnlyMemory<float>)>
        {
            ("wte.weight", [c.VocabSize, c.Channels], model.TokenEmbeddings.ToArray()),
        };
        // Only a learned wpe is a tensor that forms; fixed sinusoids and rotary positions have none.
        if (c.Positions == PositionKind.Learned) tensors.Add(("wpe.weight", [c.BlockSize, c.Channels], model.PositionEmbeddings.ToArray()));
        SafetensorsFile.Write(FramePath(run, step), tensors, metadata);
    }

    /// <summary>Deletes the frames, the tokenizer and the formation log an earlier run left in <paramref name="run"/>.</summary>
    public static void Clear(string run)
    {
        string folder = Folder(run);
        if (!Directory.Exists(folder)) return;
        foreach (string old in Directory.EnumerateFiles(folder, "step-*.safetensors")) File.Delete(old);
        foreach (string name in new[] { Checkpoint.TokenizerFile, Gpt2BpeTokenizer.VocabFile, Gpt2BpeTokenizer.MergesFile,
            FormationLogName })
            File.Delete(System.IO.Path.Combine(folder, name));
    }

    /// <summary>
    /// The frames of <paramref name="dir"/>'s snapshots folder (or of <paramref name="dir"/> itself when it has none),
    /// in step order; empty when there are none.
    /// </summary>
    public static IReadOnlyList<Snapshot> List(string dir)
    {
        string folder = Directory.Exists(Folder(dir)) ? Folder(dir) : dir;
        if (!Directory.Exists(folder)) return [];
        return Directory.EnumerateFiles(folder, "step-*.safetensors")
            .Select(p => (Match: StepName().Match(System.IO.Path.GetFileName(p)), Path: p))
            .Where(m => m.Match.Success)
            .Select(m => new Snapshot(int.Parse(m.Match.Groups[1].Value, CultureInfo.InvariantCulture), m.Path))
            .OrderBy(s => s.Step)
            .ToList();
    }

    [GeneratedRegex(@"^step-(\d+)\.safetensors$")]
    private static partial Regex StepName();
}
