using System.Diagnostics;
using System.Text.Json;
using TokenSpace.Evaluation;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// What <c>train --snapshot-every N</c> does at each snapshot: saves it, measures it against the one before
/// (<see cref="Formation.Next"/>) and rewrites <c>snapshots/formation.jsonl</c> (one record per line, atomically)
/// so the metrics can be read while the run goes on. A resumed run keeps the records before its first step.
/// </summary>
sealed class FormationLog
{
    static readonly JsonSerializerOptions Compact = new(CliOptions.JsonOptions) { WriteIndented = false };

    readonly string outDir, path;
    readonly Trainer trainer;
    readonly IReadOnlyList<string?>? groups;
    readonly List<string> lines = [];
    readonly Stopwatch clock = new();
    FormationFrame? previous;

    public FormationLog(string outDir, Trainer trainer)
    {
        this.outDir = outDir;
        this.trainer = trainer;
        path = Path.Combine(Snapshots.Folder(outDir), Snapshots.FormationLogName);
        // The letters' groups (for GPT-2: its single-letter tokens), whose silhouette the log records.
        groups = Enumerable.Range(0, trainer.Tokenizer.VocabSize)
            .Select(id => LetterGroups.Of(trainer.Tokenizer.TokenText(id)) is var g && g is "vowel" or "consonant" ? g : null).ToArray();
        if (trainer.Step == 0 || !File.Exists(path)) return;
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length > 0 && JsonDocument.Parse(line).RootElement.GetProperty("step").GetInt32() < trainer.Step) lines.Add(line);
        }
        var before = SnapshotMap.Find(outDir).LastOrDefault(s => s.Step < trainer.Step);
        if (before.Path is not null) previous = before.LoadFrame();
    }

    /// <summary>Time spent saving and measuring snapshots so far.</summary>
    public double Seconds => clock.Elapsed.TotalSeconds;

    /// <summary>Whether the trainer's current step has a record (its snapshot was saved by this run or the one it resumes).</summary>
    public bool Has(int step) => previous?.Step == step;

    /// <summary>Saves the snapshot of the trainer's current step and appends its metrics to the log.</summary>
    public void Snapshot()
    {
        clock.Start();
        double? loss = trainer.SaveSnapshot(outDir);
        var model = trainer.Model;
        float[]? wpe = model.Config.Positions == PositionKind.Learned ? model.PositionEmbeddings.ToArray() : null;
        var frame = new FormationFrame(trainer.Step, model.TokenEmbeddings.ToArray(), wpe, model.Config.Channels, loss);
        lines.Add(JsonSerializer.Serialize(Formation.Next(previous, frame, groups), Compact));
        previous = frame;
        AtomicFile.WriteAllText(path, string.Join('\n', lines) + "\n");
        clock.Stop();
    }
}
