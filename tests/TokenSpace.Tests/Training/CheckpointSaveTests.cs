using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Tests.Training;

/// <summary>Checkpoint saves interrupted at every step, recovery, and the one-writer lock.</summary>
[Collection(ProcessWideState.Name)] // sets the process-wide save hook
public sealed class CheckpointSaveTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ckpt-save").FullName;

    public void Dispose()
    {
        AtomicDirectory.Step = null;
        Directory.Delete(root, true);
    }

    sealed class Crash : Exception;

    const string Names = "anna\nbob\ncarl\ndora\nemil\nfrida\n";

    static Trainer NewTrainer()
    {
        var tok = CharTokenizer.Train(Names);
        var options = new TrainOptions { Steps = 4, Seed = 2 };
        var (train, val) = TextData.FromText(Names, tok, DataMode.Lines, "names").Split(options.Seed);
        return Trainer.Create(new Gpt(GptConfig.MicroGpt(tok.VocabSize)), tok, options, train, val);
    }

    /// <summary>What a checkpoint directory may hold after a recovery: the checkpoint, the lock, snapshots and nothing else.</summary>
    internal static void AssertNoLeftovers(string dir)
    {
        string[] allowed = [Checkpoint.ModelFile, Checkpoint.ConfigFile, Checkpoint.TokenizerFile, Checkpoint.OptimizerFile, Checkpoint.StateFile,
            CheckpointLock.FileName, Checkpoint.SnapshotsDir];
        Assert.All(Directory.GetFileSystemEntries(dir), e => Assert.Contains(Path.GetFileName(e), allowed));
        string snapshots = Path.Combine(dir, Checkpoint.SnapshotsDir);
        if (Directory.Exists(snapshots))
        {
            Assert.All(Directory.GetFileSystemEntries(snapshots), e => Assert.Matches(@"^(step-\d{6}\.safetensors|tokenizer\.json|formation\.jsonl)$", Path.GetFileName(e)));
        }
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(dir)!, $".{Path.GetFileName(dir)}.*"));
    }

    /// <summary>The names of the steps one save takes, in order.</summary>
    static List<string> Steps(Action save)
    {
        var steps = new List<string>();
        AtomicDirectory.Step = steps.Add;
        try
        {
            save();
        }
        finally
        {
            AtomicDirectory.Step = null;
        }
        return steps;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Save_CrashAtEveryStep_RecoversTheOldOrTheNewCheckpointWithSnapshotsAndNoLeftovers(bool first)
    {
        var trainer = NewTrainer();
        trainer.TrainStep();
        var before = (float[])trainer.Model.Parameters.Clone();
        trainer.TrainStep();
        var after = (float[])trainer.Model.Parameters.Clone();
        var model = trainer.Model;
        var state = new TrainingState(2, trainer.Rng.State, trainer.Options, trainer.Optimizer.M, trainer.Optimizer.V, trainer.DataHash);

        string Prepare(int k)
        {
            string dir = Path.Combine(root, $"{first}-{k}");
            if (first) return dir;
            var old = new Gpt(model.Config);
            before.CopyTo(old.Parameters, 0);
            Checkpoint.Save(dir, old, trainer.Tokenizer, (state with { Step = 1 }).WriteInto);
            Directory.CreateDirectory(Path.Combine(dir, Checkpoint.SnapshotsDir));
            File.WriteAllText(Path.Combine(dir, Checkpoint.SnapshotsDir, "step-000000.safetensors"), "frame");
            return dir;
        }

        string probe = Prepare(-1);
        int count = Steps(() => Checkpoint.Save(probe, model, trainer.Tokenizer, state.WriteInto)).Count;
        Assert.InRange(count, 15, 40);
        for (int k = 0; k < count; k++)
        {
            string dir = Prepare(k);
            int seen = 0;
            AtomicDirectory.Step = _ =>
            {
                if (seen++ == k) throw new Crash();
            };
            Assert.Throws<Crash>(() => Checkpoint.Save(dir, model, trainer.Tokenizer, state.WriteInto));
            AtomicDirectory.Step = null;

            Checkpoint.Recover(dir);
            AssertNoLeftovers(dir);
            if (first && !File.Exists(Path.Combine(dir, Checkpoint.StateFile)))
            {
                Assert.False(Checkpoint.HoldsRun(dir), $"step {k}: a half-written first checkpoint");
                continue;
            }
            var (loaded, _) = Checkpoint.Load(dir);
            int step = TrainingState.Load(dir, loaded).Step;
            Assert.Equal(step == 2 ? after : before, loaded.Parameters);
            Assert.True(step == 2 || !first, $"step {k}");
            if (!first) Assert.Equal("frame", File.ReadAllText(Path.Combine(dir, Checkpoint.SnapshotsDir, "step-000000.safetensors")));
        }
    }

    [Fact]
    public void Load_SaveOfTheEarlierLayoutInterruptedBetweenItsRenames_RestoresCheckpointAndSnapshots()
    {
        var trainer = NewTrainer();
        string dir = Path.Combine(root, "run"), old = Path.Combine(root, ".run.old-0123"), temp = Path.Combine(root, ".run.tmp-4567");
        trainer.Save(old);
        Directory.CreateDirectory(Path.Combine(old, Checkpoint.SnapshotsDir));
        File.WriteAllText(Path.Combine(old, Checkpoint.SnapshotsDir, "step-000000.safetensors"), "frame");
        Directory.CreateDirectory(temp);
        File.WriteAllText(Path.Combine(temp, Checkpoint.ModelFile), "half");

        Assert.Equal(trainer.Model.Parameters, Checkpoint.Load(dir).Model.Parameters);
        Assert.True(File.Exists(Path.Combine(dir, Checkpoint.SnapshotsDir, "step-000000.safetensors")));
        AssertNoLeftovers(dir);
    }

    [Fact]
    public void Load_SaveOfTheEarlierLayoutInterruptedWhileCarryingSnapshots_MovesThemIn()
    {
        var trainer = NewTrainer();
        string dir = Path.Combine(root, "run"), old = Path.Combine(root, ".run.old-0123");
        trainer.Save(dir);
        Directory.CreateDirectory(Path.Combine(old, Checkpoint.SnapshotsDir));
        File.WriteAllText(Path.Combine(old, Checkpoint.SnapshotsDir, "step-000000.safetensors"), "frame");
        File.WriteAllText(Path.Combine(old, Checkpoint.ModelFile), "the previous model");

        Checkpoint.Load(dir);
        Assert.Equal("frame", File.ReadAllText(Path.Combine(dir, Checkpoint.SnapshotsDir, "step-000000.safetensors")));
        AssertNoLeftovers(dir);
    }

    [Fact]
    public void CheckpointLock_SecondWriter_FailsAtOnceUntilTheFirstLetsGo()
    {
        string dir = Path.Combine(root, "run");
        using (CheckpointLock.Acquire(dir))
        {
            var e = Assert.Throws<IOException>(() => CheckpointLock.Acquire(dir));
            Assert.StartsWith($"{dir} is being written by another process", e.Message);
            Assert.Null(CheckpointLock.TryAcquire(dir));
        }
        using var again = CheckpointLock.Acquire(dir);
    }
}
