using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenSpace.Formats;
using TokenSpace.Training;

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
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TokenSpace.Cli.dll"));
        foreach (string arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return Process.Start(info)!;
    }

    [Fact]
    public async Task Train_CtrlC_SavesAtTheCurrentStepSaysWhereAndExits130()
    {
        var token = TestContext.Current.CancellationToken;
        // Far more steps than a loaded machine runs before the signal lands (microgpt takes 100,000 steps in seconds).
        using var process = Start(null, "train", "--data", Data(), "--steps", "100000000", "--log-every", "50", "--out", Out, "--threads", "1");
        var stderr = process.StandardError.ReadToEndAsync(token);
        // Wait for the first progress line after step 0: training is under way.
        while (await process.StandardOutput.ReadLineAsync(token) is { } line && !line.Contains("train loss", StringComparison.Ordinal)) { }
        using (var kill = Process.Start("kill", ["-INT", $"{process.Id}"])) await kill.WaitForExitAsync(token);
        string stdout = await process.StandardOutput.ReadToEndAsync(token);
        await process.WaitForExitAsync(token).WaitAsync(TimeSpan.FromSeconds(60), token);
        Assert.Equal(130, process.ExitCode);
        int step = State(Out)["step"]!.GetValue<int>();
        Assert.InRange(step, 50, 99_999_999);
        string errors = await stderr;
        Assert.Contains($"stopped at step {step} of 100000000; checkpoint saved in {Out}; continue with `tokenspace train --data ", errors);
        Assert.DoesNotContain("error", stdout + errors);
    }
}
