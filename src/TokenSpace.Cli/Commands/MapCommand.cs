using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Plotting;
using TokenSpace.Projection;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// <c>tokenspace map</c>: projects chosen embeddings to 2-D (PCA, t-SNE or UMAP) and draws them as an SVG map; with
/// <c>--snapshots</c>, the embeddings saved during training as one page that plays them forming.
/// </summary>
static class MapCommand
{
    // Above this, mapping every key unasked would take long and draw an unreadable map.
    const int AllKeysLimit = 10_000;

    /// <summary>Maps of at most this many points are labelled unless asked not to: a person reads them word by word.</summary>
    public const int LabelledPoints = 100;

    public static Command Create()
    {
        var vectors = new Option<string?>("--vectors") { Description = VectorOptions.Vectors().Description };
        var snapshots = new Option<string?>("--snapshots") { Description = "A training run's directory (train --snapshot-every N): map " +
            "every DIR/snapshots/step-*.safetensors, aligned to the last, as an HTML page (--out page.html) plus frame SVGs" };
        var method = new Option<string>("--method") { Description = "pca, tsne or umap", DefaultValueFactory = _ => "pca" };
        method.AcceptOnlyFromAmong("pca", "tsne", "umap");
        var words = new Option<string?>("--words") { Description = "Comma-separated keys to map" };
        var top = new Option<int?>("--top") { Description = "Map the first N keys of the file (most frequent first in GloVe / word2vec " +
            "files)" };
        var wordsFile = new Option<string?>("--words-file") { Description = "File with one key per line to map" };
        var labels = new Option<bool?>("--labels")
        {
            Description = "Draw the keys as labels (overlapping ones are left out; every point has a tooltip); "
                + $"default: for maps of at most {LabelledPoints} points, --labels false turns them off",
        };
        var groups = new Option<string?>("--groups") { Description = "Metadata TSV with a header: key<TAB>column…; points are coloured " +
            "by " +
            "one column. 'letters': vowel / consonant / BOS / other (default with --snapshots)" };
        var groupColumn = new Option<string?>("--group-column") { Description = "Metadata column to colour by (default: the second)" };
        var output = new Option<string>("--out") { Description = "SVG file to write (with --snapshots: the HTML page; frames go to a " +
            "folder beside it)", Required = true };
        var title = new Option<string?>("--title") { Description = "Title of the map (default: file and method)" };
        var perplexity = new Option<double?>("--perplexity") { Description = "t-SNE perplexity (default 30, lowered to (n - 1) / 3, at " +
            "least 1, for few points)" };
        var iterations = new Option<int>("--iterations") { Description = "t-SNE iterations", DefaultValueFactory = _ => 1000 };
        var neighbors = new Option<int?>("--neighbors")
        {
            Description = "UMAP neighbourhood size, the point itself counted (default 15, at most the number of points)",
        };
        var minDist = new Option<double>("--min-dist") { Description = "UMAP: how close points may pack", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<ulong>("--seed") { Description = "Seed (t-SNE, UMAP)", DefaultValueFactory = _ => 0 };

        var command = new Command("map", "Project embeddings to 2-D with PCA, t-SNE or UMAP and draw an SVG map")
        {
            vectors, snapshots, method, words, top, wordsFile, labels, groups, groupColumn, output, title, perplexity, iterations,
            neighbors, minDist, seed,
        };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string? path = parse.GetValue(vectors);
            string? run = parse.GetValue(snapshots);
            if ((path is null) == (run is null)) throw new ArgumentException("give exactly one of --vectors and --snapshots");
            string outPath = run is null
                ? CliOptions.OutputFile(parse.GetValue(output)!, "--out", ".svg", "an SVG map (with --snapshots: an .html page)")
                : CliOptions.OutputFile(parse.GetValue(output)!, "--out", ".html", "an HTML page (without --snapshots: an .svg map)");
            bool json = parse.GetValue(CliOptions.Json);
            string how = parse.GetValue(method)!;
            Func<KeyedVectors, LoadedVectors> choose = all =>
                Choose(all, parse.GetValue(words), parse.GetValue(top), parse.GetValue(wordsFile));
            if (parse.GetValue(iterations) < 1) throw new ArgumentException($"--iterations must be at least 1, got " +
                $"{parse.GetValue(iterations)}");
            var tsneOptions = (int n) =>
            {
                double p = parse.GetValue(perplexity) ?? Math.Min(30, Math.Max(1, (n - 1) / 3.0));
                if (!(p > 0 && p < n)) throw new ArgumentException($"--perplexity must be above 0 and below the number of points ({n}), " +
                    $"got {p}");
                return new TsneOptions { Perplexity = p, MaxIter = parse.GetValue(iterations), Seed = parse.GetValue(seed) };
            };
            if (run is not null && how == "umap") throw new ArgumentException("--snapshots maps with pca or tsne; not umap yet");
            if (run is not null) return MapSnapshots(parse, run, how, choose, tsneOptions, groups, groupColumn, output, title, json);

            using var all = VectorOptions.Load(parse, path!);
            var chosen = choose(all);
            int n = chosen.Keys.Length;
            if (n < 3) throw new ArgumentException($"a map needs at least 3 points, got {n}");

            double[] xy;
            double? kl = null;
            double[]? explained = null;
            UmapResult? umap = null;
            string detail;
            if (how == "pca")
            {
                var pca = Pca.Fit(chosen.Matrix, n, chosen.Dims, 2);
                xy = pca.Coordinates;
                explained = pca.ExplainedVarianceRatio;
                detail = $"PCA · {n:N0} points · axes explain {explained[0]:P1} and {explained[1]:P1} of the variance";
            }
            else if (how == "umap")
            {
                int k = parse.GetValue(neighbors) ?? Math.Min(15, n);
                if (k < 2 || k > n)
                {
                    throw new ArgumentException($"--neighbors must be at least 2 and at most the number of points ({n}), got {k}");
                }
                var options = new UmapOptions { Neighbors = k, MinDist = parse.GetValue(minDist), Seed = parse.GetValue(seed) };
                int epochs = n <= Umap.SmallLimit ? Umap.SmallEpochs : Umap.LargeEpochs;
                umap = WithProgress("UMAP", epochs, showProgress: !json && !Console.IsErrorRedirected,
                    report => Umap.Fit(chosen.Matrix, n, chosen.Dims, options, report is null ? null : (done, _) => report(done)));
                xy = umap.Coordinates;
                detail = $"UMAP · {n:N0} points · {k} neighbours · min_dist {options.MinDist:0.###} · {umap.Epochs} epochs";
            }
            else
            {
                var options = tsneOptions(n);
                var tsne = WithProgress("t-SNE", options.MaxIter, showProgress: !json && !Console.IsErrorRedirected,
                    report => Tsne.Fit(chosen.Matrix, n, chosen.Dims, options, report is null ? null : (done, _) => report(done)));
                xy = tsne.Coordinates;
                kl = tsne.KlDivergence;
                detail = $"t-SNE · {n:N0} points · perplexity {options.Perplexity:0.#} · KL {tsne.KlDivergence:0.###}";
            }

            string? groupsPath = parse.GetValue(groups);
            bool labelled = parse.GetValue(labels) ?? n <= LabelledPoints;
            var (xAxis, yAxis) = AxisNames(how, explained);
            var map = ScatterPlot.Write(outPath, chosen.Keys, xy, new ScatterOptions
            {
                Title = parse.GetValue(title) ?? $"{VectorOptions.DisplayName(path!)} · {MethodName(how)}",
                Subtitle = detail,
                Labels = labelled,
                XAxis = xAxis,
                YAxis = yAxis,
                Groups = groupsPath is null ? null : Groups(groupsPath, parse.GetValue(groupColumn), chosen.Keys),
            });

            if (json)
            {
                var points = chosen.Keys.Select((k, i) => new { key = k, x = xy[2 * i], y = xy[2 * i + 1] }).ToArray();
                int placed = map.LabelsPlaced, dropped = map.LabelsDropped;
                object document = how switch
                {
                    "pca" => new
                    {
                        method = how, points, explained_variance = explained, out_path = outPath, labels_placed = placed,
                        labels_dropped = dropped,
                    },
                    "tsne" => new
                    {
                        method = how, points, kl_divergence = kl, out_path = outPath, labels_placed = placed, labels_dropped = dropped,
                    },
                    _ => new
                    {
                        method = how, points, epochs = umap!.Epochs, a = umap.A, b = umap.B, init = umap.Init.ToString().ToLowerInvariant(),
                        components = umap.Components, out_path = outPath, labels_placed = placed, labels_dropped = dropped,
                    },
                };
                CliOptions.WriteJson(document);
                return 0;
            }
            var table = new Table().HideHeaders().AddColumns("", "");
            table.AddRow("method", how);
            table.AddRow("points", n.ToString("N0"));
            if (explained is not null) table.AddRow("explained variance", $"{explained[0]:P1}, {explained[1]:P1}");
            if (kl is not null) table.AddRow("KL divergence", $"{kl:0.####}");
            if (umap is not null)
            {
                string start = umap.Init.ToString().ToLowerInvariant();
                table.AddRow("UMAP", $"{umap.Epochs} epochs, {start} start, graph of {umap.Components:N0} component(s)");
            }
            if (labelled) table.AddRow("labels", $"{map.LabelsPlaced:N0} placed, {map.LabelsDropped:N0} left out to avoid overlaps");
            table.AddRow("wrote", Markup.Escape(outPath));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    /// <summary>The axes' names: <c>PC1 34.8 %</c> (the share of the variance it explains) for PCA, <c>t-SNE 1</c>, <c>UMAP
    /// 1</c>.</summary>
    internal static (string X, string Y) AxisNames(string method, double[]? explained) => method == "pca"
        ? (Pc(1, explained![0]), Pc(2, explained[1]))
        : ($"{MethodName(method)} 1", $"{MethodName(method)} 2");

    static string Pc(int axis, double share) => string.Create(CultureInfo.InvariantCulture, $"PC{axis} {100 * share:0.0} %");

    /// <summary>The rows to map: the listed words, the first N, or those of a words file (at most one of them; none means all, up to
    /// <see cref="AllKeysLimit"/>).</summary>
    static LoadedVectors Choose(KeyedVectors all, string? words, int? top, string? wordsFile)
    {
        int given = (words is null ? 0 : 1) + (top is null ? 0 : 1) + (wordsFile is null ? 0 : 1);
        if (given > 1) throw new ArgumentException("give at most one of --words, --top and --words-file");
        if (words is not null) return LoadedVectors.Select(all, KeyText.SplitList(words, all));
        if (top is { } count)
        {
            if (count < 1) throw new ArgumentException($"--top must be at least 1, got {count}");
            return LoadedVectors.Take(all, count);
        }
        if (wordsFile is not null) return LoadedVectors.Select(all,
            File.ReadLines(wordsFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToList());
        if (all.Count > AllKeysLimit)
        {
            throw new ArgumentException($"the file holds {all.Count:N0} keys; choose some with --top N, --words or --words-file (at most " +
                $"{AllKeysLimit:N0} are mapped without asking)");
        }
        return LoadedVectors.Take(all, all.Count);
    }

    /// <summary>
    /// <c>map --snapshots RUN</c>: projects every snapshot of the run (<see cref="SnapshotMap"/>) and writes the
    /// page and its frames.
    /// </summary>
    static int MapSnapshots(ParseResult parse, string run, string how, Func<KeyedVectors, LoadedVectors> choose, Func<int,
        TsneOptions> tsneOptions,
        Option<string?> groups, Option<string?> groupColumn, Option<string> output, Option<string?> title, bool json)
    {
        string page = parse.GetValue(output)!;
        string groupsPath = parse.GetValue(groups) ?? "letters";
        var result = SnapshotMap.Write(run, page, how == "tsne", choose, tsneOptions,
            keys => Groups(groupsPath, parse.GetValue(groupColumn), keys), parse.GetValue(title));
        if (json)
        {
            CliOptions.WriteJson(new
            {
                method = how,
                out_path = page,
                frames_dir = result.FramesDirectory,
                frames = result.Frames.Select(f => new { step = f.Step,
                    points = f.Keys.Select((k, i) => new { key = k, x = f.Coordinates[2 * i], y = f.Coordinates[2 * i + 1] }) }),
            });
            return 0;
        }
        var table = new Table().HideHeaders().AddColumns("", "");
        table.AddRow("method", how);
        table.AddRow("frames", $"{result.Frames.Count} (steps {result.Frames[0].Step:N0}–{result.Frames[^1].Step:N0}), aligned to the " +
            "last");
        table.AddRow("points", result.Frames[0].Keys.Count.ToString("N0"));
        table.AddRow("wrote", Markup.Escape(page));
        table.AddRow("frames in", Markup.Escape(result.FramesDirectory));
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Each key's group: <c>letters</c> gives <see cref="LetterGroups"/>; anything else is a metadata TSV
    /// (<see cref="ReadGroups"/>).</summary>
    internal static string?[] Groups(string groupsPath, string? column, IReadOnlyList<string> keys) =>
        groupsPath == "letters" ? keys.Select(LetterGroups.Of).ToArray() : ReadGroups(groupsPath, column, keys);

    static string MethodName(string how) => how switch { "pca" => "PCA", "tsne" => "t-SNE", _ => "UMAP" };

    /// <summary>Runs <paramref name="fit"/>, with a progress bar on stderr of <paramref name="total"/> steps when shown (fit gets a
    /// reporter then, else null).</summary>
    static T WithProgress<T>(string name, int total, bool showProgress, Func<Action<int>?, T> fit)
    {
        if (!showProgress) return fit(null);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress().Start(context =>
        {
            var task = context.AddTask(name, maxValue: total);
            result = fit(done => task.Value = done);
            task.Value = total;
        });
        return result;
    }

    /// <summary>Each key's group: the column <paramref name="column"/> (default: the first after the key) of a metadata TSV; keys absent
    /// from it get none.</summary>
    /// <exception cref="FileFormatException">The file is malformed or lacks the column.</exception>
    static string?[] ReadGroups(string path, string? column, IReadOnlyList<string> keys)
    {
        var metadata = KeyMetadata.Read(path);
        int at = column is null ? 0 : metadata.IndexOf(column);
        if (at < 0) throw new FileFormatException(path,
            $"no column '{column}' in the header (columns: key, {string.Join(", ", metadata.Columns)})", 1);
        return keys.Select(k => metadata.Of(k)?[at]).ToArray();
    }
}
