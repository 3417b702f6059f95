using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;

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
    /// unknown words, impossible options) into one line on stderr and exit code 1; anything else is
    /// an internal error: one line and exit code 2. <c>--verbose</c> adds the stack trace.
    /// </summary>
    public static int Run(ParseResult parse, Func<int> verb)
    {
        bool verbose = parse.GetValue(Verbose);
        int savedThreads = Tensors.Threads.Count;
        try
        {
            int threads = parse.GetValue(Threads);
            if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}");
            Tensors.Threads.Count = threads;
            return verb();
        }
        catch (Exception e)
        {
            bool user = IsUserError(e);
            Console.Error.WriteLine(user
                ? $"error: {UserMessage(e)}"
                : $"error: internal error: {e.GetType().Name}: {UserMessage(e)}{(verbose ? "" : " (run with --verbose for the stack trace)")}");
            if (user && Hint(e, parse.CommandResult.Command) is { } hint) Console.Error.WriteLine($"hint: {hint}");
            if (verbose) Console.Error.WriteLine(e);
            return user ? 1 : 2;
        }
        finally
        {
            Tensors.Threads.Count = savedThreads;
        }
    }

    /// <summary>
    /// Parses and runs the command line. A parse error (unknown option, missing argument, a value of
    /// the wrong type) prints one line and a pointer to the verb's help instead of the whole help.
    /// </summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Errors.Count == 0) return parse.Invoke();
        var names = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult c && c.Command is not RootCommand; r = r.Parent)
        {
            names.Insert(0, c.Command.Name);
        }
        Console.Error.WriteLine($"error: {parse.Errors[0].Message}");
        Console.Error.WriteLine($"hint: see `tokenspace {string.Join(' ', names.Append("--help"))}`");
        return 2;
    }

    /// <summary>Writes <paramref name="value"/> as the verb's one JSON document.</summary>
    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>
    /// The message without .NET's "(Parameter 'x')" suffix, which names code, not options, and with the library's
    /// names of settings in the command line's terms (<see cref="LibraryTerms"/>).
    /// </summary>
    static string UserMessage(Exception e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        return LibraryTerms.ToCli(message.Split('\n')[0].TrimEnd());
    }

    static bool IsUserError(Exception e) =>
        e is FormatException or IOException or UnauthorizedAccessException or ArgumentException
            or KeyNotFoundException or InvalidOperationException or NotSupportedException or OutOfMemoryException;

    static string? Hint(Exception e, Command verb) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "check the path; relative paths are resolved from the current directory",
        KeyNotFoundException => "queries are case-sensitive; try `tokenspace inspect --vectors FILE` to see sample keys",
        OutOfMemoryException => OutOfMemoryHint(verb),
        _ => null,
    };

    /// <summary>What the verb can shrink: its own options, when it has them.</summary>
    static string OutOfMemoryHint(Command verb)
    {
        bool Has(string name) => verb.Options.Any(o => o.Name == name);
        string what = Has("--batch-size") ? "try a smaller --batch-size or --block-size"
            : Has("--limit") ? "try --limit N to read fewer rows, or --dtype float16 to halve the matrix"
            : "close other programs, or use smaller inputs";
        return $"the sizes asked for do not fit in memory; {what}";
    }
}
