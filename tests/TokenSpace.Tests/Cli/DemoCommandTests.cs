using System.Text.Json;

namespace TokenSpace.Tests.Cli;

/// <summary>The main job end to end, through the real entry point (stdout is captured, so these run alone).</summary>
[Collection(ProcessWideState.Name)]
public class DemoCommandTests
{
    static (int Exit, string Stdout) RunCli(params string[] args)
    {
        var (exit, stdout, _) = VectorsCliTests.Run(args);
        return (exit, stdout);
    }

    [Fact]
    public void Demo_ShortRun_PrintsSamplesNeighboursAndWritesCheckpoint()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"demo-{Guid.NewGuid():N}");
        try
        {
            var (exit, stdout) = RunCli("demo", "--steps", "60", "--out", dir, "--json", "--threads", "1");
            Assert.Equal(0, exit);
            using var json = JsonDocument.Parse(stdout);
            var root = json.RootElement;
            Assert.Equal(60, root.GetProperty("step").GetInt32());
            double final = root.GetProperty("val_loss").GetDouble();
            Assert.InRange(final, 1.5, Math.Log(27) + 0.3);
            var first = root.GetProperty("losses")[0];
            Assert.Equal(0, first.GetProperty("step").GetInt32());
            double initial = first.GetProperty("val_loss").GetDouble();
            Assert.True(final <= initial - 0.4, $"val loss {initial} at step 0, {final} at step 60: training did not learn");
            Assert.Equal(10, root.GetProperty("samples").GetArrayLength());
            Assert.Equal(5, root.GetProperty("neighbors").GetProperty("a").GetArrayLength());
            Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(dir, "tokenizer.json")));

            (exit, stdout) = RunCli("evaluate", "loss", "--checkpoint", dir, "--data", Path.Combine(AppContext.BaseDirectory, "Data", "names.txt"), "--json");
            Assert.Equal(0, exit);
            using var loss = JsonDocument.Parse(stdout);
            Assert.InRange(loss.RootElement.GetProperty("loss").GetDouble(), 1.5, Math.Log(27) + 0.3);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Demo_OutHoldsAnotherRunsFiles_RefusesAndKeepsThem()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"demo-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "config.json"), "{\"n_embd\": 384}");
            var (exit, stdout, stderr) = VectorsCliTests.Run("demo", "--steps", "5", "--out", dir);
            Assert.Equal(1, exit);
            Assert.Equal("", stdout);
            Assert.StartsWith($"error: {dir} already holds files that `demo` did not write", stderr);
            Assert.Equal(["config.json"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));
            Assert.Equal("{\"n_embd\": 384}", File.ReadAllText(Path.Combine(dir, "config.json")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Demo_TwiceIntoTheSameOut_ReplacesItsOwnOutput()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"demo-{Guid.NewGuid():N}");
        try
        {
            Assert.Equal(0, RunCli("demo", "--steps", "5", "--out", dir, "--json", "--threads", "1").Exit);
            Assert.Equal(0, RunCli("demo", "--steps", "5", "--out", dir, "--json", "--threads", "1").Exit);
            Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Train_UnknownPreset_FailsWithOneLine()
    {
        var (exit, stdout, stderr) = VectorsCliTests.Run("train", "--data", "x.txt", "--preset", "gpt5");
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Equal($"error: unknown preset 'gpt5'; known: {string.Join(", ", TokenSpace.Training.Presets.All.Keys)}{Environment.NewLine}", stderr);
    }
}
