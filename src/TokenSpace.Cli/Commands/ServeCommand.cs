using System.CommandLine;
using System.Diagnostics;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Server;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace serve --vectors X [--vectors Y…]</c>: the explorer — the JSON API and the page — until Ctrl-C.</summary>
static class ServeCommand
{
    public static Command Create()
    {
        var vectors = new Option<string[]>("--vectors")
        {
            Description = VectorOptions.Vectors().Description + "; repeat it to serve several spaces",
            Required = true,
        };
        var metadata = new Option<string?>("--metadata") { Description = "Metadata TSV with a header: key<TAB>column…; the page colours " +
            "points by a column" };
        var host = new Option<string>("--host") { Description = "Address to listen on (anything but loopback is reachable from the " +
            "network)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free one)", DefaultValueFactory = _ => 8080 };
        var noBrowser = new Option<bool>("--no-browser") { Description = "Do not open the page in a browser (it opens only when there is " +
            "a display)" };
        var command = new Command("serve",
            "Serve the interactive explorer (JSON API under /api/, OpenAPI at /openapi/v1.json) until Ctrl-C")
        {
            vectors, metadata, host, port, noBrowser,
        };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string address = parse.GetValue(host)!;
            var spaces = new List<Space>();
            try
            {
                foreach (string source in parse.GetValue(vectors)!)
                {
                    var loaded = VectorOptions.Load(parse, source);
                    spaces.Add(new Space(UniqueName(source, spaces), source, loaded, Directory.Exists(source) ? source : null));
                    OpenIndexBeside(loaded, source);
                }
                var options = new ExplorerOptions
                {
                    Spaces = spaces,
                    Metadata = parse.GetValue(metadata) is { } tsv ? KeyMetadata.Read(tsv) : null,
                    Host = address,
                    Port = parse.GetValue(port),
                };
                if (!Explorer.IsLoopback(address))
                {
                    Console.Error.WriteLine($"warning: --host {address} is not a loopback address: anyone who can reach this machine on " +
                        $"port {options.Port} can use the explorer");
                }
                bool json = parse.GetValue(CliOptions.Json);
                Explorer.RunAsync(options, url =>
                {
                    Console.Out.WriteLine(json ? $"{{\"listening\": \"{url}\"}}" : $"listening on {url}");
                    Console.Out.Flush();
                    if (!parse.GetValue(noBrowser) && HasDisplay()) OpenBrowser(url);
                }).GetAwaiter().GetResult();
                return 0;
            }
            finally
            {
                foreach (var space in spaces) space.Vectors.Dispose();
            }
        }));
        return command;
    }

    /// <summary>
    /// Attaches the approximate index beside the vectors (<c>tokenspace index build</c>'s default path) when there is one, so the
    /// explorer's cosine neighbours come from it; one that does not fit these vectors is left out with a warning.
    /// </summary>
    static void OpenIndexBeside(KeyedVectors vectors, string source)
    {
        string path = ApproximateIndex.PathBeside(VectorOptions.Resolve(source));
        if (!File.Exists(path)) return;
        try
        {
            vectors.OpenIndex(path);
        }
        catch (FileFormatException e)
        {
            Console.Error.WriteLine($"warning: {e.Message}; serving exact neighbours (rebuild it: tokenspace index build)");
        }
    }

    /// <summary>The name requests use for <paramref name="source"/>: its file or folder name without extension, made unique with -2, -3,
    /// ….</summary>
    static string UniqueName(string source, List<Space> taken)
    {
        string name = Path.GetFileNameWithoutExtension(VectorOptions.DisplayName(source));
        if (name.Length == 0) name = "space";
        string unique = name;
        for (int i = 2; taken.Any(s => s.Name == unique); i++) unique = $"{name}-{i}";
        return unique;
    }

    static bool HasDisplay() => OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"));

    static void OpenBrowser(string url)
    {
        try
        {
            Process.Start(new ProcessStartInfo(url) { UseShellExecute = true })?.Dispose();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Console.Error.WriteLine($"note: could not open a browser ({e.Message}); open {url} yourself");
        }
    }
}
