using System.Reflection;
using System.Text.Json;

namespace TokenSpace.Tests.Cli;

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCapture;

/// <summary>The main job end to end, through the real entry point (stdout is captured, so these run alone).</summary>
[Collection("Console")]
public class DemoCommandTests
{
    static (int Exit, string Stdout) RunCli(params string[] args)
    {
        var entry = Assembly.Load("TokenSpace.Cli").EntryPoint!;
        var saved = Console.Out;
        var writer = new StringWriter();
        Console.SetOut(writer);
        try
        {
            int exit = (int)entry.Invoke(null, [args])!;
            return (exit, writer.ToString());
        }
        finally
        {
            Console.SetOut(saved);
        }
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
            Assert.InRange(root.GetProperty("val_loss").GetDouble(), 1.5, Math.Log(27) + 0.3);
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
    public void Train_UnknownPreset_FailsWithOneLine()
    {
        var (exit, _) = RunCli("train", "--data", "x.txt", "--preset", "gpt5");
        Assert.Equal(1, exit);
    }
}
