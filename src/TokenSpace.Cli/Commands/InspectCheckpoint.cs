using System.CommandLine;
using Spectre.Console;
using TokenSpace.Embeddings;
using TokenSpace.Evaluation;
using TokenSpace.Formats;
using TokenSpace.Model;
using TokenSpace.Training;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// <c>tokenspace inspect --checkpoint DIR</c>: the three things to look at in a trained model: how its wte formed
/// (the formation summary, when the run saved snapshots), the nearest neighbours of its most frequent tokens, and
/// the band structure of its wpe (how fast the cosine of two positions falls with their distance): the learned table,
/// or the fixed sinusoids a sinusoidal model adds (for comparison); rotary positions and none have no table.
/// </summary>
static class InspectCheckpoint
{
    public static readonly Option<string?> CheckpointDir = new("--checkpoint") { Description = "A checkpoint directory: what the model " +
        "learned (formation, neighbours of frequent tokens, wpe bands)" };
    public static readonly Option<string?> Data = new("--data") { Description = "With --checkpoint: text whose most frequent tokens to " +
        "show (default: the first tokens by id)" };
    public static readonly Option<int> Top = new("--top") { Description = "With --checkpoint: how many frequent tokens, each with its 5 " +
        "nearest neighbours", DefaultValueFactory = _ => 10 };

    /// <summary>Distances at which the wpe band is reported (those below the block size).</summary>
    static readonly int[] Distances = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    public static int Run(ParseResult parse, string dir)
    {
        int top = parse.GetValue(Top);
        if (top < 1) throw new ArgumentException($"--top must be at least 1, got {top}");
        var config = Checkpoint.ReadConfig(dir);
        using var wte = VectorsFile.Load(dir);
        var (frequent, source) = Frequent(dir, parse.GetValue(Data), wte, top);
        var neighbours = frequent.Select(f => new
        {
            token = f.Token,
            count = f.Count,
            neighbors = wte.MostSimilar(f.Token, 5).Select(n => new { token = n.Key, cosine = n.Similarity }).ToList(),
        }).ToList();
        double[]? band = null;
        if (config.Positions == PositionKind.Learned)
        {
            using var wpe = VectorsFile.Load(dir, options: new VectorsLoadOptions { Tensor = "wpe" });
            band = Formation.PositionBands(wpe.Vectors, wpe.Dimensions);
        }
        else if (config.Positions == PositionKind.Sinusoidal)
        {
            var sinusoids = PositionEmbedding.CreateSinusoidal(config.BlockSize, config.Channels);
            band = Formation.PositionBands(sinusoids.Weight.Span, config.Channels);
        }
        var bands = band is null ? null
            : Distances.Where(d => d < band.Length).Select(d => new { distance = d, mean_cosine = band[d] }).ToList();
        int? half = band is null ? null
            : Enumerable.Range(1, band.Length - 1).Cast<int?>().FirstOrDefault(d => band[d!.Value] < 0.5 * band[1]);
        (FormationReport Report, IReadOnlyList<string> Keys)? formation = Directory.Exists(Snapshots.Folder(dir))
            ? EvaluateFormationCommand.Measure(dir, "letters", null) : null;

        if (parse.GetValue(CliOptions.Json))
        {
            CliOptions.WriteJson(new
            {
                checkpoint = Path.GetFullPath(dir),
                vocab_size = config.VocabSize,
                block_size = config.BlockSize,
                layers = config.Layers,
                heads = config.Heads,
                channels = config.Channels,
                positions = Checkpoint.PositionNames[config.Positions],
                formation = formation is { } f
                    ? new { summary = EvaluateFormationCommand.Summary(f.Report, f.Keys), last = f.Report.Steps[^1] } : null,
                frequent_tokens = new { source, tokens = neighbours },
                wpe_bands = bands is null ? null : new { by_distance = bands, half_distance = half },
            });
            return 0;
        }
        Console.WriteLine($"{Path.GetFullPath(dir)}: GPT, {config.Layers} layers × {config.Heads} heads × {config.Channels} channels, "
            + $"vocabulary {config.VocabSize:N0}, block {config.BlockSize:N0}, {Checkpoint.PositionNames[config.Positions]} positions");
        if (formation is { } run)
        {
            foreach (string line in EvaluateFormationCommand.Summary(run.Report, run.Keys)) Console.WriteLine(line);
        }
        else
        {
            Console.WriteLine("no snapshots/ (train with --snapshot-every N to see how wte formed)");
        }
        var table = new Table().AddColumn(source == "data" ? "frequent token"
            : "token (by id)").AddColumn(new TableColumn("count").RightAligned())
            .AddColumn("nearest in wte (cosine)");
        foreach (var n in neighbours)
        {
            table.AddRow(Markup.Escape(KeyText.Visible(n.token)), n.count?.ToString("N0") ?? "",
                Markup.Escape(string.Join("  ", n.neighbors.Select(x => $"{KeyText.Visible(x.token)} {x.cosine:F2}"))));
        }
        AnsiConsole.Write(table);
        if (bands is null)
        {
            Console.WriteLine(config.Positions == PositionKind.Rope
                ? "wpe: none (rotary positions turn q and k inside attention)"
                : "wpe: none (the model has no position encoding)");
        }
        else
        {
            string what = config.Positions == PositionKind.Learned ? "wpe bands" : "wpe bands of the fixed sinusoids (not learned)";
            Console.WriteLine($"{what}, mean cosine of positions d apart: "
                + string.Join("  ", bands.Select(b => $"d={b.distance} {b.mean_cosine:F2}"))
                + (half is { } h ? $"; half of the d=1 similarity is gone by d={h}" : "; it never falls to half of d=1"));
        }
        return 0;
    }

    /// <summary>The <paramref name="top"/> most frequent tokens of <paramref name="data"/> (tokenised as the model was), or the first by
    /// id.</summary>
    static (List<(string Token, long? Count)> Tokens, string Source) Frequent(string dir, string? data, KeyedVectors wte, int top)
    {
        if (data is null) return (wte.Keys.Take(top).Select(k => (k, (long?)null)).ToList(), "id order");
        var tokenizer = CheckpointTokenizer.Load(dir);
        // Tokenised as in training: a lines-mode model's documents carry separators its vocabulary lacks a newline for.
        var text = TextData.Load(data, tokenizer, TrainingState.ReadOptions(dir)?.Mode ?? DataMode.Text);
        var counts = new long[tokenizer.VocabSize];
        foreach (int id in text.Stream.Span) counts[id]++;
        foreach (int id in text.Documents.SelectMany(d => d)) counts[id]++;
        var ranked = Enumerable.Range(0,
            counts.Length).Where(i => counts[i] > 0).OrderByDescending(i => counts[i]).ThenBy(i => i).Take(top);
        return (ranked.Select(i => (wte.Keys[i], (long?)counts[i])).ToList(), "data");
    }
}
