using System.CommandLine;
using Spectre.Console;
using TokenSpace.Plotting;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace heatmap</c>: the cosine similarity of positions or of chosen tokens, as an SVG heatmap.</summary>
static class HeatmapCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        var positions = new Option<bool>("--positions") { Description = "Rows are positions: compare the first --count rows in file " +
            "order " +
            "(of a checkpoint: its wpe)" };
        var count = new Option<int>("--count") { Description = "With --positions: how many positions", DefaultValueFactory = _ => 64 };
        var words = new Option<string?>("--words") { Description = "Comma-separated keys to compare" };
        var output = new Option<string>("--out") { Description = "SVG file to write", Required = true };
        var title = new Option<string?>("--title") { Description = "Title (default: file and what is compared)" };

        var command = new Command("heatmap", "Draw the cosine similarity of positions or chosen tokens as an SVG heatmap")
        {
            vectors, positions, count, words, output, title,
        };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string path = parse.GetValue(vectors)!;
            string outPath = CliOptions.OutputFile(parse.GetValue(output)!, "--out", ".svg", "an SVG heatmap");
            bool byPosition = parse.GetValue(positions);
            string? list = parse.GetValue(words);
            if (byPosition == (list is not null)) throw new ArgumentException("give exactly one of --positions and --words");
            if (parse.GetValue(count) < 2) throw new ArgumentException($"--count must be at least 2, got {parse.GetValue(count)}");

            using var all = VectorOptions.Load(parse, path, defaultTensor: byPosition ? "wpe" : null);
            string[] keys = list is null ? [] : KeyText.SplitList(list, all);
            if (!byPosition && keys.Length < 2) throw new ArgumentException($"--words needs at least 2 words to compare, got " +
                $"{keys.Length}");
            // Only a checkpoint's wpe (keys pos:0, pos:1, …) has positions; the first rows of word vectors do not.
            if (byPosition && (all.Count == 0
                || all.Keys[0] != "pos:0")) throw new ArgumentException($"--positions needs a checkpoint or a wpe tensor; {path} has " +
                    "word " +
                "keys");
            var chosen = byPosition ? LoadedVectors.Take(all, parse.GetValue(count)) : LoadedVectors.Select(all, keys);
            int n = chosen.Keys.Length;
            var labels = byPosition ? Enumerable.Range(0, n).Select(i => i.ToString()).ToArray() : chosen.Keys;
            double[] cosine = HeatmapPlot.CosineSimilarity(chosen.Matrix, n, chosen.Dims);
            string what = byPosition ? $"positions 0–{n - 1}" : $"{n} tokens";
            HeatmapPlot.Write(outPath, labels, labels, cosine, new HeatmapOptions
            {
                Title = parse.GetValue(title) ?? $"{VectorOptions.DisplayName(path)} · cosine similarity of {what}",
                Subtitle = byPosition ? "row i, column j: cos(wpe[i], wpe[j])" : "row i, column j: cos(v[i], v[j])",
            });

            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(new { keys = labels,
                    cosine = Enumerable.Range(0, n).Select(i => cosine[(i * n)..((i + 1) * n)]).ToArray(), out_path = outPath });
                return 0;
            }
            var table = new Table().HideHeaders().AddColumns("", "");
            table.AddRow("compared", Markup.Escape(what));
            table.AddRow("wrote", Markup.Escape(outPath));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
