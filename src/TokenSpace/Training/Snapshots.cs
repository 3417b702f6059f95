using System.Globalization;
using System.Text.RegularExpressions;
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
}

/// <summary>
/// The embeddings of a run as they form: <c>RUN/snapshots/step-NNNNNN.safetensors</c> holds <c>wte.weight</c>
/// (V, C) and <c>wpe.weight</c> (block_size, C) as they were before step NNNNNN (metadata <c>step</c>), beside
/// <c>RUN/snapshots/tokenizer.json</c> (+ GPT-2's vocabulary files), whose ids index wte's rows.
/// </summary>
public static partial class Snapshots
{
    /// <summary>The folder's name inside a run's directory.</summary>
    public const string FolderName = "snapshots";

    /// <summary>The snapshots folder of the run in <paramref name="run"/>.</summary>
    public static string Folder(string run) => System.IO.Path.Combine(run, FolderName);

    /// <summary>The file of the frame taken before step <paramref name="step"/>.</summary>
    public static string FramePath(string run, int step) =>
        System.IO.Path.Combine(Folder(run), string.Create(CultureInfo.InvariantCulture, $"step-{step:D6}.safetensors"));

    /// <summary>
    /// Writes the frame of <paramref name="model"/> before step <paramref name="step"/>, and the tokenizer beside it
    /// (rewritten every time, atomically: a frame must never sit beside another run's tokenizer).
    /// </summary>
    public static void Save(string run, int step, Gpt model, ITokenizer tokenizer)
    {
        Directory.CreateDirectory(Folder(run));
        CheckpointTokenizer.Save(Folder(run), tokenizer);
        var c = model.Config;
        SafetensorsFile.Write(FramePath(run, step),
        [
            ("wte.weight", [c.VocabSize, c.Channels], model.TokenEmbeddings.ToArray()),
            ("wpe.weight", [c.BlockSize, c.Channels], model.PositionEmbeddings.ToArray()),
        ], new Dictionary<string, string> { ["step"] = step.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>Deletes the frames and the tokenizer an earlier run left in <paramref name="run"/>.</summary>
    public static void Clear(string run)
    {
        string folder = Folder(run);
        if (!Directory.Exists(folder)) return;
        foreach (string old in Directory.EnumerateFiles(folder, "step-*.safetensors")) File.Delete(old);
        foreach (string name in new[] { Checkpoint.TokenizerFile, CheckpointTokenizer.VocabFile, CheckpointTokenizer.MergesFile })
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
