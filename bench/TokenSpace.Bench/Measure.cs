using System.Diagnostics;
using System.Text.Json;

namespace TokenSpace.Bench;

/// <summary>Timing and JSON-line output shared by every benchmark.</summary>
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
