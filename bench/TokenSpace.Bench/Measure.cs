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
        Array.Sort(times);
        return runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    }

    /// <summary>Prints one JSON line.</summary>
    public static void Emit(object line) => Console.WriteLine(JsonSerializer.Serialize(line, Options));
}
