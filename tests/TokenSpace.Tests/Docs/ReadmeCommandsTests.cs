using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TokenSpace.Formats;
using TokenSpace.IO;

namespace TokenSpace.Tests.Docs;

/// <summary>
/// Every shell command of README.md runs as written: from the root of a temporary copy of the repository,
/// with the data sets of the test cache (so the README's names — <c>names</c>, <c>glove-100d</c>, … — resolve).
/// <para>What runs: in each <c>```bash</c> block, every line that starts with <c>tokenspace </c> (the built CLI)
/// or with <c>dotnet run --project src/TokenSpace.Cli -c Release --</c> (the same CLI, as the README says),
/// in the order of the README, each in its own <c>bash</c>, so quoting and <c># comments</c> mean what they
/// mean to a reader. Each must exit 0; a line with <c>--json</c> must print one JSON document. Other lines
/// (<c>dotnet test</c>, which runs this test; <c>dotnet pack</c>/<c>dotnet tool</c>; benchmarks) are not run.</para>
/// <para>Conventions for whoever edits the README (also in a comment at its top):
/// <list type="bullet">
/// <item><c>&lt;!-- readme-test: skip REASON --&gt;</c> on the line before a <c>```bash</c> block leaves the whole block
/// out (a server that runs until stopped, a browser, the network, a job of minutes); the reason is required.</item>
/// <item>Blocks run top to bottom in one copy: a later command may use what an earlier one wrote (<c>out/demo</c>).</item>
/// <item>Use data set names or files of the repository, never paths outside it (<c>../shared/...</c>).</item>
/// </list></para>
/// <para>Overrides (<see cref="Overrides"/>), so the whole README runs in about a minute: training verbs get a small
/// <c>--steps</c>; the shakespeare preset also a smaller batch; analogy evaluation a smaller
/// <c>--restrict-vocab</c>. Everything else runs exactly as printed.</para>
/// </summary>
public sealed class ReadmeCommandsTests : IDisposable
{
    const string SkipMarker = "<!-- readme-test: skip";
    const string DotnetRunCli = "dotnet run --project src/TokenSpace.Cli -c Release --";

    /// <summary>(pattern, rewrite) applied in order to each command before it runs; see the class summary.</summary>
    static readonly (Regex Pattern, Func<string, string> Rewrite)[] Overrides =
    [
        // Training runs for at most 20 steps (a resume to 40, so it still extends the run).
        (new(@"^tokenspace (train|demo)\b"), line => Steps(line, line.Contains("--resume") ? 40 : 20)),
        // shakespeare-char-small's 16 sequences of 128 a step: 4 are enough to show the run works.
        (new(@"^tokenspace train\b.*--preset shakespeare-char-small"), line => InsertBeforeComment(line, " --batch-size 4")),
        // The full 300,000-word search per question takes minutes on 2 cores; 30,000 words take seconds.
        (new(@"^tokenspace evaluate analogies\b"), line => InsertBeforeComment(line, " --restrict-vocab 30000")),
    ];

    readonly string copy = Directory.CreateTempSubdirectory("tokenspace-readme").FullName;

    public void Dispose() => Directory.Delete(copy, recursive: true);

    /// <summary>The commands of the README, in order, with the line they are on; blocks after a skip marker are left out.</summary>
    internal static List<(int Line, string Command)> Commands(string readme, List<string>? skipped = null)
    {
        var commands = new List<(int, string)>();
        string[] lines = readme.Split('\n');
        bool inBlock = false, skip = false;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (!inBlock && line.StartsWith("```bash", StringComparison.Ordinal))
            {
                inBlock = true;
                skip = i > 0 && lines[i - 1].TrimStart().StartsWith(SkipMarker, StringComparison.Ordinal);
                if (skip) skipped?.Add($"README.md:{i + 1}: {lines[i - 1].Trim()}");
                continue;
            }
            if (inBlock && line.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = false;
                continue;
            }
            if (!inBlock || skip) continue;
            string command = line.Trim();
            if (command.StartsWith(DotnetRunCli + " ", StringComparison.Ordinal)) command = "tokenspace " + command[(DotnetRunCli.Length + 1)..];
            if (command.StartsWith("tokenspace ", StringComparison.Ordinal)) commands.Add((i + 1, command));
        }
        return commands;
    }

    static string Steps(string line, int steps) =>
        Regex.IsMatch(line, @"--steps \d+") ? Regex.Replace(line, @"--steps \d+", $"--steps {steps}") : InsertBeforeComment(line, $" --steps {steps}");

    /// <summary>Adds <paramref name="options"/> before a trailing <c># comment</c> (outside quotes), or at the end.</summary>
    static string InsertBeforeComment(string line, string options)
    {
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '"') quoted = !quoted;
            else if (!quoted && line[i] == '#' && i > 0 && line[i - 1] == ' ') return line[..i].TrimEnd() + options + " " + line[i..];
        }
        return line + options;
    }

    static string Apply(string command)
    {
        foreach (var (pattern, rewrite) in Overrides)
        {
            if (pattern.IsMatch(command)) command = rewrite(command);
        }
        return command;
    }

    [Fact]
    public void Readme_EveryCommand_RunsAsWritten()
    {
        string readme = File.ReadAllText(Path.Combine(TestData.RepoRoot, "README.md"));
        var commands = Commands(readme);
        Assert.True(commands.Count >= 20, $"only {commands.Count} commands found in README.md");
        foreach (var set in DataCache.Sets.Where(s => s.Name != "glove-100d")) TestData.Dataset(set.Name);
        TestData.Pretrained("glove-100d");
        CopyRepository(TestData.RepoRoot, copy);
        string cli = Path.Combine(AppContext.BaseDirectory, "TokenSpace.Cli.dll");
        var failures = new StringBuilder();
        foreach (var (line, written) in commands)
        {
            string command = Apply(written);
            long started = Stopwatch.GetTimestamp();
            var (exit, stdout, stderr) = Bash(cli, command, copy);
            TestContext.Current.TestOutputHelper?.WriteLine($"{Stopwatch.GetElapsedTime(started).TotalSeconds,6:F1} s  README.md:{line}: {command}");
            if (exit != 0)
            {
                failures.AppendLine($"README.md:{line}: `{command}` exited {exit}: {stderr.Trim()}");
                continue;
            }
            if (Regex.IsMatch(command.Split(" #")[0], @"\s--json\b"))
            {
                try
                {
                    JsonDocument.Parse(stdout).Dispose();
                }
                catch (JsonException e)
                {
                    failures.AppendLine($"README.md:{line}: `{command}` printed no single JSON document: {e.Message}");
                }
            }
        }
        Assert.True(failures.Length == 0, failures.ToString());
    }

    [Fact]
    public void Commands_MarkersAndRewrites_AsDocumented()
    {
        string readme = "text\n```bash\ntokenspace demo   # the main job\ndotnet test\n```\n<!-- readme-test: skip a server -->\n```bash\ntokenspace serve --vectors x\n```\n"
            + "```bash\ndotnet run --project src/TokenSpace.Cli -c Release -- train --data names --steps 500 --out out/n\n```\n";
        var skipped = new List<string>();
        var commands = Commands(readme, skipped);
        Assert.Equal([(3, "tokenspace demo   # the main job"), (11, "tokenspace train --data names --steps 500 --out out/n")], commands);
        Assert.Equal(["README.md:7: <!-- readme-test: skip a server -->"], skipped);
        Assert.Equal("tokenspace demo --steps 20 # the main job", Apply(commands[0].Command));
        Assert.Equal("tokenspace train --data names --steps 20 --out out/n", Apply(commands[1].Command));
        Assert.Equal("tokenspace tokenize --text \"a # b\" --steps 20", Steps("tokenspace tokenize --text \"a # b\"", 20));
    }

    /// <summary>Runs <paramref name="command"/> in bash in <paramref name="dir"/>, with <c>tokenspace</c> the built CLI; two minutes at most.</summary>
    internal static (int Exit, string Stdout, string Stderr) Bash(string cli, string command, string dir)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"tokenspace() {{ dotnet '{cli}' \"$@\"; }}\n{command}");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, stdout.Result, "timed out after 2 minutes; mark the block <!-- readme-test: skip REASON --> or add an override");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Copies the checkout's files (not build output, out/ or .git) to <paramref name="to"/>.</summary>
    static void CopyRepository(string from, string to)
    {
        string[] leaveOut = ["bin", "obj", "out", ".git", "node_modules", "TestResults"];
        foreach (string dir in Directory.EnumerateDirectories(from))
        {
            if (leaveOut.Contains(Path.GetFileName(dir))) continue;
            Directory.CreateDirectory(Path.Combine(to, Path.GetFileName(dir)));
            CopyRepository(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
        foreach (string file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
