using System.CommandLine;
using Spectre.Console;
using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Cli;

/// <summary>The options of every verb that reads vectors, and the one way they are loaded (with a progress bar on a terminal).</summary>
static class VectorOptions
{
    /// <summary>Files at least this large get a progress bar while loading.</summary>
    const long ProgressBytes = 32 << 20;

    public static Option<string> Vectors() => new("--vectors")
    {
        Description = "Vectors file (word2vec bin/txt, GloVe, fastText .vec or .bin (words outside the vocabulary too), .npy, " +
            ".safetensors, native .tsvec), a checkpoint directory (its wte, keyed by token), or a fetched name (glove-100d)",
        Required = true,
    };

    public static readonly Option<string?> Format = new("--format")
    {
        Description = $"Force the input format: {string.Join(", ", VectorsFile.ReadableFormats)} (default: detected from the content)",
    };

    public static readonly Option<int?> Limit = new("--limit") { Description = "Read only the first N rows" };

    public static readonly Option<string?> Keys = new("--keys") { Description = "Keys file for a .npy matrix (one key per line)" };

    public static readonly Option<string?> Tensor = new("--tensor")
    {
        Description = "For a checkpoint directory or .safetensors file: the tensor whose rows are the vectors (wte: keyed by token; wpe: " +
            "keyed pos:0, pos:1, …; any other 2-D tensor: keyed by row number)",
    };

    public static readonly Option<bool> ReplaceInvalid = new("--replace-invalid-utf8")
    {
        Description = "Replace invalid UTF-8 in keys by U+FFFD instead of failing",
    };

    public static readonly Option<string> Dtype = new("--dtype")
    {
        Description = "Hold the matrix in memory as float32 or float16 (half the memory; a float16 .npy is kept as is)",
        DefaultValueFactory = _ => "float32",
    };

    /// <summary>
    /// Adds --format, --limit, --keys, --tensor, --replace-invalid-utf8 and (with <paramref name="storage"/>)
    /// --dtype to <paramref name="command"/>; without it the matrix is held as float32.
    /// </summary>
    public static void AddLoadOptions(Command command, bool storage = true)
    {
        command.Options.Add(Format);
        command.Options.Add(Limit);
        command.Options.Add(Keys);
        command.Options.Add(Tensor);
        command.Options.Add(ReplaceInvalid);
        if (storage) command.Options.Add(Dtype);
    }

    /// <summary>Loads the vectors the parse result names; a progress bar goes to stderr for large files when it is a terminal.</summary>
    public static KeyedVectors Load(ParseResult parse, Option<string> vectors) => Load(parse, parse.GetValue(vectors)!);

    /// <summary>
    /// Loads the vectors at <paramref name="path"/> with the load options of <paramref name="parse"/>;
    /// <paramref name="defaultTensor"/> is the tensor of a safetensors source when --tensor is not given.
    /// </summary>
    public static KeyedVectors Load(ParseResult parse, string path, string? defaultTensor = null)
    {
        var format = parse.GetValue(Format) is { } name ? VectorsFile.ParseFormat(name) : (VectorFormat?)null;
        if (parse.GetValue(Limit) is < 1 and int limit) throw new ArgumentException($"--limit must be at least 1, got {limit}");
        var options = new VectorsLoadOptions
        {
            Limit = parse.GetValue(Limit),
            KeysPath = parse.GetValue(Keys),
            Tensor = parse.GetValue(Tensor) ?? defaultTensor,
            Utf8Errors = parse.GetValue(ReplaceInvalid) ? Utf8Errors.Replace : Utf8Errors.Strict,
            Storage = (parse.CommandResult.Command.Options.Contains(Dtype) ? parse.GetValue(Dtype) : null) switch
            {
                "float32" or null => VectorStorage.Float32,
                "float16" => VectorStorage.Float16,
                var other => throw new ArgumentException($"--dtype must be float32 or float16, got '{other}'"),
            },
        };
        string resolved = Resolve(path);
        bool big = File.Exists(resolved) && new FileInfo(resolved).Length >= ProgressBytes;
        return WithProgress(big, $"loading {Path.GetFileName(resolved)}",
            report => VectorsFile.Load(path, format, options with { Progress = report }));
    }

    /// <summary>The file or directory <c>--vectors</c> names: the path itself, or the cached file of a data set name.</summary>
    public static string Resolve(string path) =>
        File.Exists(path) || Directory.Exists(path) ? path : PretrainedVectors.Resolve(path) ?? path;

    /// <summary>The name of <paramref name="path"/> for titles: its last part, also for a directory given with a trailing slash.</summary>
    public static string DisplayName(string path) => Path.GetFileName(Path.TrimEndingDirectorySeparator(path));

    /// <summary>Runs <paramref name="work"/> with a progress bar on stderr when <paramref name="show"/> and stderr is a terminal.</summary>
    public static T WithProgress<T>(bool show, string label, Func<Action<double>?, T> work)
    {
        if (!show || Console.IsErrorRedirected) return work(null);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress().AutoClear(true).Start(context =>
        {
            var task = context.AddTask(label, maxValue: 1.0);
            var gate = new Lock();
            result = work(fraction =>
            {
                lock (gate) task.Value = Math.Max(task.Value, fraction);
            });
            task.Value = 1.0;
        });
        return result;
    }
}
