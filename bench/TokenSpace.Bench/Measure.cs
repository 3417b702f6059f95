using System.Diagnostics;
using System.Text.Json;

namespace TokenSpace.Bench;

/// <summary>What every benchmark shares: timing, JSON-line output, command-line options and the checkout's root.</summary>
static class Measure
{
    static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Runs <paramref name="action"/> <paramref name="warmup"/> times untimed, then returns the median of <paramref name="runs"/> timed runs in ms.</summary>
    public static double MedianMs(Action action, int runs = 10, int warmup = 2)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return Median(times);
    }

    /// <summary>The value after <paramref name="name"/> on the command line, or null when it is absent.</summary>
    public static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    /// <summary>The integer after <paramref name="name"/> on the command line, or <paramref name="fallback"/>.</summary>
    public static int Option(string[] args, string name, int fallback) =>
        Option(args, name) is { } value ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>The checkout this bench runs from: the first directory holding TokenSpace.sln above the current one, else above the binary.</summary>
    public static string RepoRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "TokenSpace.sln"))) return dir.FullName;
            }
        }
        throw new InvalidOperationException("TokenSpace.sln not found above the current directory or " + AppContext.BaseDirectory);
    }

    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Prints one JSON line.</summary>
    public static void Emit(object line) => Console.WriteLine(JsonSerializer.Serialize(line, Options));
}
