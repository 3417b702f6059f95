using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TokenSpace.Evaluation;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Plotting;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// <c>tokenspace evaluate formation --snapshots DIR</c>: how a run's embeddings formed (<see cref="Formation"/>),
/// as a table, JSON and a line chart.
/// </summary>
static class EvaluateFormationCommand
{
    static readonly Option<string> Snapshots = new("--snapshots") { Description = "A training run's directory (train --snapshot-every " +
        "N), " +
        "or its snapshots folder", Required = true };
    static readonly Option<string> Groups = new("--groups")
    {
        Description = "Groups for the silhouette: letters (vowel / consonant; BOS and other characters left out) or a metadata TSV " +
            "key<TAB>group…",
        DefaultValueFactory = _ => "letters",
    };
    static readonly Option<string?> GroupColumn = new("--group-column") { Description = "Column of the TSV holding the group (default: " +
        "the second)" };
    static readonly Option<string?> Out = new("--out") { Description = "Also write the metrics as an SVG line chart (formation.svg)" };
    static readonly Option<ulong> Seed = new("--seed") { Description = "Seed for the anisotropy's random pairs",
        DefaultValueFactory = _ => 42 };

    /// <summary>The <c>formation</c> subcommand, to be attached under <c>evaluate</c>.</summary>
    public static Command Create()
    {
        var command = new Command("formation",
            "How wte (and a learned wpe) formed along training: Procrustes disparity, neighbour overlap, settling, silhouette, norm, " +
            "anisotropy, effective rank, loss")
        {
            Snapshots, Groups, GroupColumn, Out, Seed,
        };
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string run = parse.GetValue(Snapshots)!;
            if (parse.GetValue(Out) is { } chart) CliOptions.OutputFile(chart, "--out", ".svg", "an SVG line chart");
            var (report, keys) = Measure(run, parse.GetValue(Groups)!, parse.GetValue(GroupColumn),
                new FormationOptions { Seed = parse.GetValue(Seed) });
            if (parse.GetValue(Out) is { } svg) Chart(report, svg, $"{VectorOptions.DisplayName(run)}: embeddings forming during training");
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(Json(report, keys));
                return 0;
            }
            // Eleven columns need about 110 characters: a pipe gets them rather than Spectre's 80-column default.
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            if (Console.IsOutputRedirected) console.Profile.Width = 160;
            console.Write(Table("wte (tokens)", report, s => s.Wte));
            if (report.WpeSettled is not null) console.Write(Table("wpe (positions)", report, s => s.Wpe!));
            foreach (string line in Summary(report, keys)) Console.WriteLine(line);
            if (parse.GetValue(Out) is { } written) AnsiConsole.MarkupLine($"chart: [blue]{Markup.Escape(Path.GetFullPath(written))}[/]");
            return 0;
        }));
        return command;
    }

    /// <summary>Loads every snapshot of <paramref name="run"/> and measures them; the keys are wte's tokens (the snapshots'
    /// tokenizer).</summary>
    /// <exception cref="FileFormatException">A snapshot or its tokenizer is malformed.</exception>
    internal static (FormationReport Report, IReadOnlyList<string> Keys) Measure(string run, string groups, string? column,
        FormationOptions? options = null)
    {
        var found = SnapshotMap.Find(run);
        var frames = found.Select(s => s.LoadFrame()).ToList();
        IReadOnlyList<string> keys;
        using (var kv = VectorsFile.Load(found[^1].Path, VectorFormat.Safetensors,
            new VectorsLoadOptions { Tensor = "wte" })) keys = kv.Keys.ToArray();
        var byGroup = MapCommand.Groups(groups, column, keys);
        // The letters' silhouette is vowels against consonants: BOS and punctuation are no group of their own.
        if (groups == "letters") byGroup = byGroup.Select(g => g is "vowel" or "consonant" ? g : null).ToArray();
        return (Formation.Measure(frames, byGroup, options), keys);
    }

    /// <summary>Two lines a person reads: how far the tokens' neighbourhoods and the space's shape moved from first to last
    /// frame.</summary>
    internal static string[] Summary(FormationReport report, IReadOnlyList<string> keys)
    {
        var first = report.Steps[0];
        var last = report.Steps[^1];
        var settled = report.WteSettled;
        int median = settled.Order().ElementAt(settled.Length / 2);
        var latest = settled.Select((step, i) => (Step: step, Key: keys[i])).OrderByDescending(s => s.Step).Take(3)
            .Select(s => $"{KeyText.Visible(s.Key)} {s.Step:N0}");
        string silhouette = first.Wte.Silhouette is { } s0 && last.Wte.Silhouette is { } s1 ? $" · group silhouette {s0:F2} → {s1:F2}" : "";
        return
        [
            $"wte forming, {report.Steps.Count} snapshots to step {last.Step:N0}: 10-NN overlap with the final " +
                $"{first.Wte.OverlapWithFinal:F2} → 1 · "
                + $"disparity to the final {first.Wte.DisparityToFinal:F2} → 0 · half settled by step {median:N0} (last: " +
                    $"{string.Join(", ", latest)})",
            $"wte shape: effective rank {first.Wte.EffectiveRank:F1} → {last.Wte.EffectiveRank:F1} · anisotropy " +
                $"{first.Wte.Anisotropy:F2} " +
                $"→ {last.Wte.Anisotropy:F2} · "
                + $"mean norm {first.Wte.MeanNorm:F2} → {last.Wte.MeanNorm:F2}{silhouette}",
        ];
    }

    /// <summary>The <c>--json</c> document: every step's metrics and each token's (and position's) settling step.</summary>
    internal static object Json(FormationReport report, IReadOnlyList<string> keys) => new
    {
        steps = report.Steps,
        settled = new
        {
            wte = report.WteSettled.Select((step, i) => new { token = keys[i], step }),
            wpe = report.WpeSettled?.Select((step, position) => new { position, step }),
        },
    };

    /// <summary>Writes the chart: one panel per metric, wte and wpe as two lines.</summary>
    internal static void Chart(FormationReport report, string path, string title)
    {
        var steps = report.Steps.Select(s => (double)s.Step).ToArray();
        bool positions = report.WpeSettled is not null;
        LinePanel Panel(string name, Func<SpaceMetrics, double?> metric, double? min = null, double? max = null)
        {
            var series = new List<LineSeries> { new("wte", steps, report.Steps.Select(s => metric(s.Wte)).ToArray()) };
            if (positions) series.Add(new LineSeries("wpe", steps, report.Steps.Select(s => metric(s.Wpe!)).ToArray()));
            return new LinePanel(name, series, min, max);
        }
        LinePanel[] panels =
        [
            new("training loss", [new LineSeries("train loss", steps, report.Steps.Select(s => s.Loss).ToArray())]),
            Panel("10-NN overlap with the final", m => m.OverlapWithFinal, 0, 1),
            Panel("share settled", m => m.Settled, 0, 1),
            Panel("disparity to the final", m => m.DisparityToFinal, 0, 1),
            Panel("disparity to the previous", m => m.DisparityToPrevious, 0),
            Panel("10-NN overlap with the previous", m => m.OverlapWithPrevious, 0, 1),
            new("group silhouette", [new LineSeries("wte", steps, report.Steps.Select(s => s.Wte.Silhouette).ToArray())]),
            Panel("anisotropy", m => m.Anisotropy),
            Panel("effective rank", m => m.EffectiveRank, 0),
            Panel("mean norm", m => m.MeanNorm, 0),
        ];
        LineChart.Write(path, panels, new LineChartOptions
        {
            Title = title,
            Subtitle = $"{report.Steps.Count} snapshots, steps {report.Steps[0].Step:N0}–{report.Steps[^1].Step:N0} · neighbours by " +
                "cosine · disparity: Procrustes "
                + "(scipy) · settled: ≥ 80 % of its final 10 neighbours from then on · anisotropy: mean cosine of random pairs · " +
                    "silhouette: cosine",
            Columns = 5,
            PanelWidth = 230,
            PanelHeight = 140,
        });
    }

    static Table Table(string title, FormationReport report, Func<FormationStep, SpaceMetrics> pick)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Simple };
        string[] headings = ["step", "loss", "disp→prev", "disp→final", "nn∩prev", "nn∩final", "settled", "silhouette", "norm",
            "anisotropy", "eff. rank"];
        foreach (string h in headings) table.AddColumn(new TableColumn(h).RightAligned());
        foreach (var s in report.Steps)
        {
            var m = pick(s);
            table.AddRow(s.Step.ToString("N0", CultureInfo.InvariantCulture), F(s.Loss, "F3"), F(m.DisparityToPrevious, "F3"),
                F(m.DisparityToFinal, "F3"),
                F(m.OverlapWithPrevious, "F2"), F(m.OverlapWithFinal, "F2"), F(m.Settled, "P0"), F(m.Silhouette, "F3"), F(m.MeanNorm, "F3"),
                F(m.Anisotropy, "F3"), F(m.EffectiveRank, "F1"));
        }
        return table;
    }

    static string F(double? value, string format) => value is { } v ? Markup.Escape(v.ToString(format, CultureInfo.InvariantCulture)) : "";
}
