using System.Diagnostics;
using System.Text.Json;

namespace TokenSpace.Bench;

/// <summary>Runs a tools/reference/ script (Debian python3-torch) in the same run, for a same-machine comparison.</summary>
static class TorchReference
{
    /// <summary>The script's JSON lines, or an empty list and the reason when Python, torch or the script is missing.</summary>
    public static (List<JsonElement> Lines, string? Error) Run(params string[] args) => RunScript("embedding_bench.py", args);

    /// <summary>As <see cref="Run"/>, for tools/reference/<paramref name="name"/>.</summary>
    public static (List<JsonElement> Lines, string? Error) RunScript(string name, params string[] args)
    {
        string? script = FindScript(name);
        if (script is null) return ([], $"tools/reference/{name} not found above " + AppContext.BaseDirectory);
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (string a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) return ([], $"python3 exited with {process.ExitCode}: {stderr.Result.Trim().Split('\n').LastOrDefault()}");
            return ([.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())], null);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return ([], "/usr/bin/python3 could not be started: " + e.Message);
        }
    }

    static string? FindScript(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "tools", "reference", name);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
