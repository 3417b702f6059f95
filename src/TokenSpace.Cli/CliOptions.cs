using System.CommandLine;
using System.Text.Json;
using TokenSpace.Tensors;

namespace TokenSpace.Cli;

/// <summary>Options every verb accepts, and the one way a verb runs: errors become one line and a non-zero exit.</summary>
static class CliOptions
{
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print one machine-readable JSON document on stdout",
        Recursive = true,
    };

    public static readonly Option<int> Threads = new("--threads")
    {
        Description = "Threads for computation (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
        Recursive = true,
    };

    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces on errors",
        Recursive = true,
    };

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Applies <c>--threads</c>, runs the verb, and turns the errors a user can cause (bad files,
    /// unknown words, impossible options) into one line on stderr and exit code 1.
    /// </summary>
    public static int Run(ParseResult parse, Func<int> verb)
    {
        bool verbose = parse.GetValue(Verbose);
        try
        {
            int threads = parse.GetValue(Threads);
            if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}");
            Tensors.Threads.Count = threads;
            return verb();
        }
        catch (Exception e) when (!verbose && IsUserError(e))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (Hint(e) is { } hint) Console.Error.WriteLine($"hint: {hint}");
            return 1;
        }
        catch (Exception e) when (verbose && IsUserError(e))
        {
            Console.Error.WriteLine($"error: {e}");
            return 1;
        }
    }

    /// <summary>Writes <paramref name="value"/> as the verb's one JSON document.</summary>
    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    static bool IsUserError(Exception e) =>
        e is FormatException or IOException or UnauthorizedAccessException or ArgumentException
            or KeyNotFoundException or InvalidOperationException or NotSupportedException;

    static string? Hint(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "check the path; relative paths are resolved from the current directory",
        KeyNotFoundException => "queries are case-sensitive; try `tokenspace inspect --vectors FILE` to see sample keys",
        _ => null,
    };
}
