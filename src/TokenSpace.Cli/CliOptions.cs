using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Text.Json;
using TokenSpace.IO;

namespace TokenSpace.Cli;

/// <summary>Options every verb accepts, and the one way a verb runs: errors become one line and a non-zero exit.</summary>
static class CliOptions
{
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print one machine-readable JSON document on stdout",
        Recursive = true,
    };

    // No DefaultValueFactory: help would print this machine's core count beside "(default: all cores)".
    public static readonly Option<int?> Threads = new("--threads")
    {
        Description = "Threads for computation (default: all cores)",
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
        // Keys and messages print as written ('king', `tokenspace …`, non-ASCII tokens), not as \u0027 escapes.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Applies <c>--threads</c>, runs the verb, and turns the errors a user can cause (bad files,
    /// unknown words, impossible options) into one line on stderr (with <c>--json</c> also one JSON object on
    /// stdout) and exit code 1; anything else is an internal error: one line and exit code 2.
    /// <c>--verbose</c> adds the stack trace (on stderr).
    /// </summary>
    public static int Run(ParseResult parse, Func<int> verb)
    {
        bool verbose = parse.GetValue(Verbose);
        int savedThreads = Tensors.Threads.Count;
        try
        {
            int threads = parse.GetValue(Threads) ?? Environment.ProcessorCount;
            if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}");
            Tensors.Threads.Count = threads;
            return verb();
        }
        catch (Exception e)
        {
            bool user = IsUserError(e);
            string message = user ? UserMessage(e) : $"internal error: {e.GetType().Name}: {UserMessage(e)}";
            string? hint = user ? Hint(e, parse.CommandResult.Command) : verbose ? null : "run with --verbose for the stack trace";
            var location = e as FileFormatException ?? e.InnerException as FileFormatException;
            string? file = location?.FilePath ?? (e as FileNotFoundException)?.FileName;
            ReportError(parse, message, hint, file, location?.Line, location?.ByteOffset);
            if (verbose) Console.Error.WriteLine(e);
            return user ? 1 : 2;
        }
        finally
        {
            Tensors.Threads.Count = savedThreads;
        }
    }

    /// <summary>
    /// One error: <c>error: …</c> (and <c>hint: …</c>) on stderr, for the person; with <c>--json</c> also one object on
    /// stdout, for the program reading it: <c>{"error": …, "hint"?: …, "file"?: …, "line"?: …, "offset"?: …}</c>.
    /// </summary>
    static void ReportError(ParseResult parse, string message, string? hint, string? file = null, long? line = null, long? offset = null)
    {
        if (WantsJson(parse))
        {
            var error = new Dictionary<string, object> { ["error"] = message };
            if (hint is not null) error["hint"] = hint;
            if (!string.IsNullOrEmpty(file)) error["file"] = file;
            if (line is { } l) error["line"] = l;
            if (offset is { } o) error["offset"] = o;
            Console.Out.WriteLine(JsonSerializer.Serialize(error, JsonOptions));
        }
        Console.Error.WriteLine($"error: {message}");
        if (hint is not null) Console.Error.WriteLine($"hint: {hint}");
    }

    /// <summary>Whether <c>--json</c> was given, also on a command line that failed to parse.</summary>
    static bool WantsJson(ParseResult parse) =>
        parse.Tokens.Any(t => t.Type == TokenType.Option && t.Value == Json.Name) && (parse.Errors.Count > 0 || parse.GetValue(Json));

    /// <summary>
    /// Parses and runs the command line. Help names the program <c>tokenspace</c> (however it was started). A
    /// parse error (unknown verb or option, with the nearest one suggested; a missing argument; a value of the
    /// wrong type) prints one line and a pointer to the verb's help instead of the whole help, and exits 2.
    /// </summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Action is HelpAction) return Help(parse);
        var verbs = new List<Command>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult c; r = r.Parent) verbs.Insert(0, c.Command);
        string? error = ParseError(parse, verbs);
        if (error is null) return parse.Invoke();
        ReportError(parse, error, $"see `{CommandLine(verbs)} --help`");
        return 2;
    }

    /// <summary>The name of the program as a user types it (the .NET tool's command).</summary>
    public const string Program = "tokenspace";

    /// <summary><c>tokenspace verb sub</c> for the chain of commands from the root.</summary>
    static string CommandLine(List<Command> verbs) => string.Join(' ', verbs.Skip(1).Select(c => c.Name).Prepend(Program));

    /// <summary>Writes the help, its usage lines naming <see cref="Program"/> instead of the executable (TokenSpace.Cli, …).</summary>
    static int Help(ParseResult parse)
    {
        var text = new StringWriter();
        int code = parse.Invoke(new InvocationConfiguration { Output = text });
        string usage = $"Usage:{Environment.NewLine}  ";
        Console.Out.Write(text.ToString().Replace(usage + RootCommand.ExecutableName, usage + Program, StringComparison.Ordinal));
        return code;
    }

    /// <summary>
    /// The first parse error in words a user acts on: an unknown verb or option with the nearest one suggested,
    /// or System.CommandLine's own message; null when the command line is fine. A word that looks like an option
    /// (<c>--x</c>) counts as an unknown option also where a verb takes words, unless it follows <c>--</c>.
    /// </summary>
    static string? ParseError(ParseResult parse, List<Command> verbs)
    {
        var command = verbs[^1];
        string? unknown = parse.UnmatchedTokens.Count > 0 ? parse.UnmatchedTokens[0] : null;
        if (unknown is null && !parse.Tokens.Any(t => t.Type == TokenType.DoubleDash))
        {
            unknown = parse.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value)
                .FirstOrDefault(LooksLikeOption);
        }
        if (unknown is null) return parse.Errors.Count == 0 ? null : parse.Errors[0].Message;
        if (unknown.StartsWith('-'))
        {
            // The verb's own options and the recursive ones of the verbs above it (--json, --threads, --help, …).
            var options = verbs.SelectMany(v => v.Options.Where(o => v == command || o.Recursive))
                .SelectMany(o => o.Aliases.Prepend(o.Name));
            return $"unknown option '{unknown}' for `{CommandLine(verbs)}`{Suggest.Nearest(unknown, options)}";
        }
        return command.Subcommands.Count > 0
            ? $"unknown verb '{unknown}'{Suggest.Nearest(unknown, command.Subcommands.Select(c => c.Name))}"
            : $"unexpected argument '{unknown}'";
    }

    static bool LooksLikeOption(string token) =>
        token.Length > 2 && token.StartsWith("--", StringComparison.Ordinal) && char.IsLetter(token[2]);

    /// <summary>
    /// <paramref name="path"/>, when its extension is <paramref name="extension"/> (any case): a file named
    /// <c>u.png</c> would otherwise receive SVG bytes that no image viewer opens.
    /// </summary>
    /// <exception cref="ArgumentException">Another extension; the message names the expected one and what is written.</exception>
    public static string OutputFile(string path, string option, string extension, string what)
    {
        if (!string.Equals(Path.GetExtension(path), extension, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{option} {path}: this writes {what}; give a file name ending in {extension}");
        return path;
    }

    /// <summary>Writes <paramref name="value"/> as the verb's one JSON document.</summary>
    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>The message without .NET's "(Parameter 'x')" suffix, which names code, not options.</summary>
    static string UserMessage(Exception e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        return message.Split('\n')[0].TrimEnd();
    }

    static bool IsUserError(Exception e) =>
        e is FormatException or IOException or UnauthorizedAccessException or ArgumentException
            or KeyNotFoundException or InvalidOperationException or NotSupportedException or OutOfMemoryException;

    /// <summary>
    /// What to try next, when the error has an obvious next step: a data set that is not in the cache names
    /// <c>data fetch</c> / <c>data add</c>; a path that does not exist, how paths are resolved.
    /// </summary>
    static string? Hint(Exception e, Command verb) => e switch
    {
        FileNotFoundException { FileName: { } name } when DataCache.Find(name) is not null =>
            $"`{Program} data fetch {name}` downloads it (sha256-checked); "
                + $"`{Program} data add {name} FILE` imports a copy you already have",
        FileNotFoundException { FileName: { } name } when File.Exists(name) || Directory.Exists(name) => null,
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
