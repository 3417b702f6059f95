using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tests.Training;

namespace TokenSpace.Tests.Cli;

/// <summary>`train` as a user runs it: divergence, resume, progress lines, bad text, Ctrl-C.</summary>
[Collection(ProcessWideState.Name)]
public sealed class TrainCliTests : IDisposable
{
    const string Names = "anna\nbob\ncarl\ndora\nemil\nfrida\ngustav\nhanna\nida\njonas\n";

    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-train").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Data()
    {
        string path = Path.Combine(dir, "names.txt");
        File.WriteAllText(path, Names);
        return path;
    }

    string Out => Path.Combine(dir, "run");

    static JsonNode State(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, Checkpoint.StateFile)))!;

    [Fact]
    public void Train_HugeLearningRate_ExitsOneNamingTheStepAndKeepsTheLastGoodCheckpoint()
    {
        var (code, output, error) = VectorsCliTests.Run("train", "--data", Data(), "--lr", "1e30", "--steps", "50", "--out", Out, "--threads", "1");
        Assert.Equal(1, code);
        Assert.Matches(@"^error: step \d+: the training loss is .* the run diverged and stopped there .*; the last good checkpoint \(step 0\) is untouched in ", error);
        Assert.DoesNotContain("NaN |", output);
        Assert.Equal(0, State(Out)["step"]!.GetValue<int>());
        Checkpoint.Load(Out); // finite weights: loads
    }

    [Fact]
    public void TrainResume_TheStartingCommandWithMoreSteps_ContinuesAndKeepsTheDecayHorizon()
    {
        string[] start = ["train", "--data", Data(), "--preset", "microgpt", "--steps", "4", "--out", Out, "--json", "--threads", "1"];
        Assert.Equal(0, VectorsCliTests.Run(start).Code);
        var (code, output, error) = VectorsCliTests.Run([.. start[..6], "8", .. start[7..], "--resume"]);
        Assert.True(code == 0, error);
        Assert.Equal(8, JsonDocument.Parse(output).RootElement.GetProperty("step").GetInt32());
        var options = State(Out)["options"]!;
        Assert.Equal(8, options["steps"]!.GetValue<int>());
        Assert.Equal(4, options["decay_steps"]!.GetValue<int>());

        Assert.Equal(0, VectorsCliTests.Run([.. start[..6], "12", .. start[7..], "--resume", "--lr-decay-steps", "12"]).Code);
        Assert.Equal(12, State(Out)["options"]!["decay_steps"]!.GetValue<int>());
    }

    [Fact]
    public void Train_EvalTokens_SavedWithTheRunAndChangeableOnResume()
    {
        string[] start = ["train", "--data", Data(), "--steps", "2", "--eval-tokens", "16", "--out", Out, "--json", "--threads", "1"];
        Assert.Equal(0, VectorsCliTests.Run(start).Code);
        Assert.Equal(16, State(Out)["options"]!["eval_tokens"]!.GetValue<long>());
        var (code, _, error) = VectorsCliTests.Run([.. start[..4], "4", .. start[5..6], "0", .. start[7..], "--resume"]);
        Assert.True(code == 0, error);
        Assert.Equal(0, State(Out)["options"]!["eval_tokens"]!.GetValue<long>());
    }

    [Fact]
    public void Train_Profile_SplitsTheStepIntoKernelPartsAndOther()
    {
        var (code, output, error) = VectorsCliTests.Run("train", "--data", Data(), "--steps", "3", "--profile", "--out", Out, "--json", "--threads", "1");
        Assert.True(code == 0, error);
        var parts = JsonNode.Parse(output)!["profile"]!.AsArray();
        var names = parts.Select(p => p!["part"]!.GetValue<string>()).ToList();
        Assert.Superset(new HashSet<string> { "matmul forward", "matmul backward", "attention", "optimizer", "other" }, names.ToHashSet());
        Assert.Equal(1, parts.Sum(p => p!["share"]!.GetValue<double>()), 1e-9);
        // microgpt: 4 linear layers a block plus the lm head, forward and backward; one AdamW update and one clip a step.
        Assert.Equal(5, parts.Single(p => p!["part"]!.GetValue<string>() == "matmul forward")!["calls_per_step"]!.GetValue<double>());
        Assert.Equal(2, parts.Single(p => p!["part"]!.GetValue<string>() == "optimizer")!["calls_per_step"]!.GetValue<double>());
    }

    [Fact]
    public void TrainResume_AnotherPreset_RefusedNamingIt()
    {
        Assert.Equal(0, VectorsCliTests.Run("train", "--data", Data(), "--steps", "2", "--out", Out, "--json").Code);
        var (code, _, error) = VectorsCliTests.Run("train", "--data", Data(), "--preset", "shakespeare-char-small", "--steps", "3", "--out", Out, "--resume");
        Assert.Equal(1, code);
        Assert.StartsWith("error: --resume continues the saved run with its own settings, and these differ: --preset shakespeare-char-small (another architecture", error);
    }

    [Fact]
    public void Train_LogEvery_LinesWithLossRateNowAndEta()
    {
        var (code, output, error) = VectorsCliTests.Run("train", "--data", Data(), "--steps", "6", "--log-every", "2", "--out", Out);
        Assert.True(code == 0, error);
        var lines = output.Split('\n').Where(l => l.StartsWith("step ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^step +0/6 \| val loss \d\.\d{4}$", lines[0]);
        Assert.Matches(@"^step +2/6 \| train loss \d\.\d{4} \| lr [\d.E-]+ \| [\d,]+ tok/s \| ETA \d+s$", lines[1]);
        Assert.Matches(@"^step +6/6 \| train loss \d\.\d{4} \| val loss \d\.\d{4} \| lr [\d.E-]+ \| [\d,]+ tok/s \| ETA 0s$", lines[3]);
    }

    [Fact]
    public void Train_InvalidUtf8_ErrorNamesTheByteUnlessReplaced()
    {
        string data = Data();
        File.WriteAllBytes(data, [.. "anna\nb"u8, 0xF6, .. "rje\ncarl\ndora\n"u8]);
        var (code, _, error) = VectorsCliTests.Run("train", "--data", data, "--steps", "2", "--out", Out);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {data}: byte 6: invalid UTF-8", error);
        Assert.Equal(0, VectorsCliTests.Run("train", "--data", data, "--steps", "2", "--out", Out, "--replace-invalid-utf8", "--json").Code);
    }

    [Fact]
    public void SampleAndEvaluate_NonFiniteWeights_ErrorNamesTheTensor()
    {
        string data = Data();
        Assert.Equal(0, VectorsCliTests.Run("train", "--data", data, "--steps", "2", "--out", Out, "--json").Code);
        string model = Path.Combine(Out, Checkpoint.ModelFile);
        var file = SafetensorsFile.Open(model);
        var tensors = file.Entries.Values.Select(e => (e.Name, e.Shape, (ReadOnlyMemory<float>)file.ReadFloat32(e.Name))).ToList();
        var wpe = tensors.FindIndex(t => t.Name == "wpe.weight");
        var values = tensors[wpe].Item3.ToArray();
        values[0] = float.NaN;
        tensors[wpe] = (tensors[wpe].Name, tensors[wpe].Shape, values);
        SafetensorsFile.Write(model, tensors);
        foreach (string[] args in new[] { new[] { "sample", "--checkpoint", Out }, ["evaluate", "loss", "--checkpoint", Out, "--data", data] })
        {
            var (code, output, error) = VectorsCliTests.Run(args);
            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.StartsWith($"error: {model}: tensor 'wpe.weight' holds NaN at index 0", error);
        }
    }

    /// <summary>The CLI as a separate process (for signals and kills), its stdout and stderr collected.</summary>
    internal static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        // env resets SIGINT to its default: a test run started in the background (CI) inherits it ignored, as would the CLI.
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "TokenSpace.Cli.dll") }) info.ArgumentList.Add(arg);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return Process.Start(info)!;
    }

    [Fact]
    public async Task Train_CtrlC_SavesAtTheCurrentStepSaysWhereAndExits130()
    {
        // Bounded: a run that ignores the signal fails the test after two minutes instead of hanging the suite.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        var token = limit.Token;
        // microgpt runs tens of thousands of steps a second: the run must be far longer than a loaded machine can take
        // between the first progress line and the signal, or it ends on its own with 0. A process started in the
        // background of a non-interactive shell inherits SIGINT ignored (and .NET keeps it so), so the CLI starts
        // through a one-line exec that restores SIGINT's default first, as a terminal's foreground job has it.
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[]
        {
            "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])",
            "dotnet", Path.Combine(AppContext.BaseDirectory, "TokenSpace.Cli.dll"),
            "train", "--data", Data(), "--steps", "100000000", "--log-every", "50", "--out", Out, "--threads", "1",
        }) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(token);
            // Wait for the first progress line after step 0: training is under way.
            while (await process.StandardOutput.ReadLineAsync(token) is { } line && !line.Contains("train loss", StringComparison.Ordinal)) { }
            using (var kill = Process.Start("kill", ["-INT", $"{process.Id}"])) await kill.WaitForExitAsync(token);
            string stdout = await process.StandardOutput.ReadToEndAsync(token);
            await process.WaitForExitAsync(token);
            Assert.Equal(130, process.ExitCode);
            int step = State(Out)["step"]!.GetValue<int>();
            Assert.InRange(step, 50, 99_999_999);
            string errors = await stderr;
            Assert.Contains($"stopped at step {step} of 100000000; checkpoint saved in {Out}; continue with `tokenspace train --data ", errors);
            Assert.DoesNotContain("error", stdout + errors);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void Train_AnotherWriterHoldsOut_FailsAtOnce()
    {
        using var other = CheckpointLock.Acquire(Out);
        var (code, _, error) = VectorsCliTests.Run("train", "--data", Data(), "--steps", "2", "--out", Out);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {Out} is being written by another tokenspace process", error);
    }

    [Fact]
    public void Train_FreshIntoAnotherRun_RefusedUnlessOverwrite()
    {
        Assert.Equal(0, VectorsCliTests.Run("train", "--data", Data(), "--steps", "2", "--out", Out, "--json").Code);
        var (code, _, error) = VectorsCliTests.Run("train", "--data", Data(), "--steps", "3", "--out", Out);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {Out} holds another run (a checkpoint or snapshots/); --resume continues it, --overwrite replaces it", error);
        Assert.Equal(2, State(Out)["step"]!.GetValue<int>());
        Assert.Equal(0, VectorsCliTests.Run("train", "--data", Data(), "--steps", "3", "--out", Out, "--overwrite", "--json").Code);
        Assert.Equal(3, State(Out)["step"]!.GetValue<int>());
    }

    [Fact]
    public void Convert_OntoAnExistingFile_RefusedUnlessOverwrite()
    {
        string target = Path.Combine(dir, "out.txt");
        File.WriteAllText(target, "precious");
        string vectors = Path.Combine(dir, "in.txt");
        File.WriteAllText(vectors, "2 2\na 1 0\nb 0 1\n");
        var (code, _, error) = VectorsCliTests.Run("convert", "--vectors", vectors, "--out", target);
        Assert.Equal(1, code);
        Assert.Equal($"error: {target} already exists; pass --overwrite to replace it, or give another --out\n", error);
        Assert.Equal("precious", File.ReadAllText(target));
        Assert.Equal(0, VectorsCliTests.Run("convert", "--vectors", vectors, "--out", target, "--overwrite").Code);
        Assert.StartsWith("2 2", File.ReadAllText(target));
    }

    /// <summary>
    /// A real `train` process killed (SIGKILL) at each write, rename, move and delete of its saves and snapshots in turn,
    /// then `--resume` (or, when the kill came before the first checkpoint was whole, the same command again): every
    /// run must end bit-identical to one never interrupted, with no leftover in or beside the directory.
    /// </summary>
    [Fact]
    public async Task Train_KilledAtEveryStepOfItsSaves_ResumeRecoversBitIdenticallyWithNoLeftovers()
    {
        var token = TestContext.Current.CancellationToken;
        string data = Data();
        string[] Command(string run) => ["train", "--data", data, "--steps", "2", "--eval-every", "2", "--snapshot-every", "2", "--out", run, "--threads", "1", "--json"];
        string straight = Path.Combine(dir, "straight");
        var steps = new List<string>();
        AtomicDirectory.Step = steps.Add;
        try
        {
            Assert.Equal(0, VectorsCliTests.Run(Command(straight)).Code);
        }
        finally
        {
            AtomicDirectory.Step = null;
        }
        var expected = Checkpoint.Load(straight).Model.Parameters;
        Assert.InRange(steps.Count, 30, 80);

        // Every third step in the suite (about 25 s; the in-process CheckpointSaveTests stop a save at every step);
        // TOKENSPACE_CRASH_TESTS=all kills at every one. Tiered JIT in the child: it starts faster, the steps are the same.
        int stride = Environment.GetEnvironmentVariable("TOKENSPACE_CRASH_TESTS") == "all" ? 1 : 3;
        int recovered = 0, killed = 0;
        for (int k = 1; k <= steps.Count; k += stride)
        {
            killed++;
            string run = Path.Combine(dir, $"killed-{k}");
            var environment = new Dictionary<string, string> { ["TOKENSPACE_CRASH_AT"] = $"{k}", ["DOTNET_TieredCompilation"] = "1" };
            using (var process = Start(environment, Command(run)))
            {
                await process.WaitForExitAsync(token).WaitAsync(TimeSpan.FromSeconds(120), token);
                Assert.True(process.ExitCode == 137, $"kill at step {k} ({steps[k - 1]}): exit {process.ExitCode}");
            }
            var (code, _, error) = VectorsCliTests.Run([.. Command(run), "--resume"]);
            if (code != 0)
            {
                Assert.Contains("trainer.json does not exist", error);
                (code, _, error) = VectorsCliTests.Run(Command(run));
            }
            Assert.True(code == 0, $"kill at step {k} ({steps[k - 1]}): {error}");
            Assert.Equal(expected, Checkpoint.Load(run).Model.Parameters);
            CheckpointSaveTests.AssertNoLeftovers(run);
            recovered++;
        }
        Assert.Equal(killed, recovered);
        TestContext.Current.SendDiagnosticMessage($"{recovered} of {killed} runs killed at steps 1..{steps.Count} (stride {stride}) recovered");
    }
}
