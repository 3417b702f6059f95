using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Tests.Training;

public class TrainerTests
{
    const string Names = "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\nabigail\nemily\nella\nelizabeth\ncamila\nluna\nsofia\navery\nmila\naria\n";

    static Trainer NewTrainer(TrainOptions? options = null, string text = Names)
    {
        options ??= new TrainOptions { Steps = 40, BatchSize = 3, Seed = 5 };
        var tok = CharTokenizer.Train(text);
        var (train, val) = TextData.FromText(text, tok, DataMode.Lines, "names").Split(options.Seed);
        return Trainer.Create(new Gpt(GptConfig.MicroGpt(tok.VocabSize), options.BatchSize), tok, options, train, val);
    }

    static string TempDir() => Path.Combine(Path.GetTempPath(), $"ckpt-{Guid.NewGuid():N}");

    [Fact]
    public void TrainStep_OneDocumentRepeated_Overfits()
    {
        // One document and no split: train on it and validate on it.
        var tok = CharTokenizer.Train("emma");
        var data = TextData.FromText("emma\n", tok, DataMode.Lines, "one");
        var trainer = Trainer.Create(new Gpt(GptConfig.MicroGpt(tok.VocabSize)), tok, new TrainOptions { Steps = 300, LearningRate = 0.01f }, data, data);
        float first = trainer.TrainStep().Loss;
        float last = first;
        while (trainer.Step < 300) last = trainer.TrainStep().Loss;
        Assert.InRange(first, 1.0f, 3.0f); // ≈ ln(6) for 6 tokens at init
        Assert.True(last < 0.05f, $"loss after 300 steps on one name: {last}");
    }

    [Fact]
    public void Train_SameSeed_IsBitIdentical()
    {
        var a = NewTrainer();
        var b = NewTrainer();
        for (int i = 0; i < 20; i++) Assert.Equal(a.TrainStep().Loss, b.TrainStep().Loss);
        Assert.Equal(a.Model.Parameters, b.Model.Parameters);
    }

    [Fact]
    public void Resume_FromCheckpoint_ContinuesBitIdentically()
    {
        var options = new TrainOptions { Steps = 30, BatchSize = 2, Seed = 9, Mode = DataMode.Text, WeightDecay = 0.1f, GradClip = 1f, WarmupSteps = 5, Schedule = LrSchedule.Cosine };
        string text = string.Concat(Enumerable.Repeat("to be or not to be, that is the question. ", 20));
        var tok = CharTokenizer.TrainStream(text);
        var (train, val) = TextData.FromText(text, tok, DataMode.Text, "t").Split(options.Seed);
        var config = new GptConfig { VocabSize = tok.VocabSize, BlockSize = 8, Layers = 1, Heads = 2, Channels = 8, Dropout = 0.1f };
        var straight = Trainer.Create(new Gpt(config, 2), tok, options, train, val);
        while (straight.Step < 30) straight.TrainStep();

        var first = Trainer.Create(new Gpt(config, 2), tok, options, train, val);
        while (first.Step < 12) first.TrainStep();
        string dir = TempDir();
        try
        {
            first.Save(dir);
            var (model, tok2) = Checkpoint.Load(dir, 2, forTraining: true);
            var resumed = Trainer.Resume(model, tok2, TrainingState.Load(dir, model), train, val);
            Assert.Equal(12, resumed.Step);
            while (resumed.Step < 30) resumed.TrainStep();
            Assert.Equal(straight.Model.Parameters, resumed.Model.Parameters);
            Assert.Equal(straight.Optimizer.V, resumed.Optimizer.V);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Resume_OtherData_IsRefused()
    {
        var trainer = NewTrainer();
        trainer.TrainStep();
        string dir = TempDir();
        try
        {
            trainer.Save(dir);
            var (model, tok) = Checkpoint.Load(dir, 3);
            var other = TextData.FromText("emma\nava\n", tok, DataMode.Lines, "other");
            var e = Assert.Throws<ArgumentException>(() => Trainer.Resume(model, tok, TrainingState.Load(dir, model), other, other));
            Assert.Contains("differ", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void SaveSnapshot_WritesWteAndWpeWithStep()
    {
        var trainer = NewTrainer();
        string dir = TempDir();
        try
        {
            trainer.SaveSnapshot(dir);
            trainer.TrainStep();
            trainer.SaveSnapshot(dir);
            var snap = SafetensorsFile.Open(Path.Combine(dir, "snapshots", "step-000001.safetensors"));
            Assert.Equal("1", snap.Metadata["step"]);
            Assert.Equal(trainer.Model.TokenEmbeddings.ToArray(), snap.ReadFloat32("wte.weight"));
            Assert.Equal([16L, 16L], snap.Entries["wpe.weight"].Shape);
            Assert.True(File.Exists(Path.Combine(dir, "snapshots", "step-000000.safetensors")));
            Assert.True(File.Exists(Path.Combine(dir, "snapshots", "tokenizer.json")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void SaveSnapshot_SecondFreshRunInSameDir_KeepsOnlyItsOwnFrames()
    {
        string dir = TempDir();
        try
        {
            var first = NewTrainer();
            first.SaveSnapshot(dir);
            first.TrainStep();
            first.TrainStep();
            first.SaveSnapshot(dir);
            File.WriteAllText(Path.Combine(dir, "snapshots", "tokenizer.json"), "stale");

            var second = NewTrainer(text: "xyz\nzyx\nyxz\nxzy\n");
            second.SaveSnapshot(dir);
            second.TrainStep();
            second.SaveSnapshot(dir);

            string[] frames = Directory.GetFiles(Path.Combine(dir, "snapshots"), "step-*.safetensors").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
            Assert.Equal(["step-000000.safetensors", "step-000001.safetensors"], frames);
            var tok = CharTokenizer.Load(Path.Combine(dir, "snapshots", "tokenizer.json"));
            Assert.Equal(second.Tokenizer.VocabSize, tok.VocabSize);
            Assert.NotEqual(first.Tokenizer.VocabSize, tok.VocabSize);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

public class TrainerSafetyTests
{
    const string Names = "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\nabigail\nemily\nella\nelizabeth\n";

    static Trainer NewTrainer(TrainOptions options)
    {
        var tok = CharTokenizer.Train(Names);
        var (train, val) = TextData.FromText(Names, tok, DataMode.Lines, "names").Split(options.Seed);
        return Trainer.Create(new Gpt(GptConfig.MicroGpt(tok.VocabSize), options.BatchSize), tok, options, train, val);
    }

    [Fact]
    public void TrainStep_HugeLearningRate_StopsBeforeTheWeightsTurnNonFinite()
    {
        var trainer = NewTrainer(new TrainOptions { Steps = 50, LearningRate = 1e30f, Seed = 3 });
        var e = Assert.Throws<TrainingDivergedException>(() =>
        {
            while (trainer.Step < 50) trainer.TrainStep();
        });
        Assert.Equal(trainer.Step, e.Step);
        Assert.StartsWith($"step {e.Step}: the training loss is ", e.Message);
        Assert.Equal(-1, NonFinite.IndexOf(trainer.Model.Parameters));
        Assert.Equal(-1, NonFinite.IndexOf(trainer.Optimizer.V));
    }

    [Fact]
    public void Save_NonFiniteWeight_RefusedAndNothingWritten()
    {
        var trainer = NewTrainer(new TrainOptions { Steps = 5, Seed = 3 });
        trainer.Model.Parameters[17] = float.PositiveInfinity;
        string dir = Path.Combine(Path.GetTempPath(), $"ckpt-{Guid.NewGuid():N}");
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Save(dir));
        Assert.Equal("step 0: a weight is Infinity; the run diverged and stopped there (try a lower TrainOptions.LearningRate, a longer TrainOptions.WarmupSteps or TrainOptions.GradClip 1)", e.Message);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void TimeStep_LeavesTheRunBitIdentical()
    {
        var options = new TrainOptions { Steps = 6, BatchSize = 2, Seed = 4 };
        var timed = NewTrainer(options);
        var plain = NewTrainer(options);
        while (timed.Step < 6)
        {
            Assert.True(timed.TimeStep() > TimeSpan.Zero);
            Assert.Equal(plain.TrainStep().Loss, timed.TrainStep().Loss);
        }
        Assert.Equal(plain.Model.Parameters, timed.Model.Parameters);
    }

    [Fact]
    public void Continued_MoreSteps_KeepsTheDecayHorizonUnlessMoved()
    {
        var run = new TrainOptions { Steps = 100, Schedule = LrSchedule.Cosine, WarmupSteps = 10, MinLearningRate = 1e-4f, LearningRate = 1e-3f };
        float At(TrainOptions o, int step) => LearningRate.At(step, o.Schedule, o.LearningRate, o.MinLearningRate, o.WarmupSteps, o.DecayEnd);
        var kept = run.Continued(300, null);
        Assert.Equal(300, kept.Steps);
        Assert.Equal(100, kept.DecayEnd);
        for (int step = 0; step < 100; step++) Assert.Equal(At(run, step), At(kept, step));
        Assert.Equal(1e-4f, At(kept, 200));

        // A new horizon: the straight 300-step schedule from the current step on.
        var moved = run.Continued(300, 300);
        var straight = run with { Steps = 300 };
        for (int step = 100; step < 300; step++) Assert.Equal(At(straight, step), At(moved, step));
    }

    [Fact]
    public void Resume_StepsBelowTheSavedStep_Refused()
    {
        var trainer = NewTrainer(new TrainOptions { Steps = 4, Seed = 3 });
        while (trainer.Step < 4) trainer.TrainStep();
        var state = new TrainingState(trainer.Step, trainer.Rng.State, trainer.Options, trainer.Optimizer.M, trainer.Optimizer.V, trainer.DataHash);
        var e = Assert.Throws<ArgumentException>(() => Trainer.Resume(trainer.Model, trainer.Tokenizer, state, trainer.Train, trainer.Validation, state.Options.Continued(2, null)));
        Assert.Equal("the run is at step 4; TrainOptions.Steps 2 would not extend it", e.Message);
        e = Assert.Throws<ArgumentException>(() => Trainer.Resume(trainer.Model, trainer.Tokenizer, state, trainer.Train, trainer.Validation, state.Options with { Seed = 9 }));
        Assert.StartsWith("a resumed run keeps its settings", e.Message);
    }
}
