using System.CommandLine;
using Spectre.Console;
using TokenSpace.Formats;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// <c>tokenspace inspect --vectors FILE</c>: format, shape, dtype, norms and sample rows; <c>inspect --checkpoint DIR</c>:
/// what a trained model learned (<see cref="InspectCheckpoint"/>).
/// </summary>
static class InspectCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        vectors.Required = false;
        var samples = new Option<int>("--samples") { Description = "Sample rows to show", DefaultValueFactory = _ => 5 };
        var command = new Command("inspect",
            "What a vectors file holds (format, shape, dtype, norms, sample rows), or what a checkpoint learned")
        {
            vectors, samples, InspectCheckpoint.CheckpointDir, InspectCheckpoint.Data, InspectCheckpoint.Top,
        };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            if (parse.GetValue(samples) < 0) throw new ArgumentException($"--samples must not be negative, got {parse.GetValue(samples)}");
            if ((parse.GetValue(vectors) is null) == (parse.GetValue(InspectCheckpoint.CheckpointDir) is null))
                throw new ArgumentException("give exactly one of --vectors FILE and --checkpoint DIR");
            if (parse.GetValue(InspectCheckpoint.CheckpointDir) is { } dir) return InspectCheckpoint.Run(parse, dir);
            string path = parse.GetValue(vectors)!;
            string resolved = File.Exists(path) ? path : PretrainedVectors.Resolve(path) ?? path;
            var format = parse.GetValue(VectorOptions.Format) is { } name ? VectorsFile.ParseFormat(name) : VectorsFile.Detect(resolved);
            using var kv = VectorOptions.Load(parse, vectors);
            var norms = kv.Norms.ToArray();
            int show = Math.Min(parse.GetValue(samples), kv.Count);
            var rows = Enumerable.Range(0, show).Select(i => new
            {
                key = kv.Keys[i],
                norm = norms[i],
                head = kv.Row(i)[..Math.Min(5, kv.Dimensions)].ToArray(),
            }).ToList();
            var info = new
            {
                path = resolved,
                format = VectorsFile.NameOf(format),
                count = kv.Count,
                dimensions = kv.Dimensions,
                dtype = VectorsFile.StoredDtype(resolved, format),
                storage = kv.Storage == VectorStorage.Float16 ? "float16" : "float32",
                memory_mapped = kv.IsMemoryMapped,
                norm_min = norms.Length > 0 ? norms.Min() : 0f,
                norm_mean = norms.Length > 0 ? norms.Average() : 0.0,
                norm_max = norms.Length > 0 ? norms.Max() : 0f,
                zero_rows = norms.Count(n => n == 0f),
                subwords = kv.Subwords is { } s ? new { min_n = s.MinN, max_n = s.MaxN, buckets = s.Buckets } : null,
                samples = rows,
            };
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(info);
                return 0;
            }
            var table = new Table().AddColumn("property").AddColumn("value");
            table.AddRow("path", Markup.Escape(info.path));
            table.AddRow("format", info.format);
            table.AddRow("shape", $"{info.count} × {info.dimensions} {info.dtype}, held as " +
                $"{info.storage}{(info.memory_mapped ? " (memory-mapped)" : "")}");
            table.AddRow("norms", $"min {info.norm_min:F4}  mean {info.norm_mean:F4}  max {info.norm_max:F4}  zero rows {info.zero_rows}");
            if (info.subwords is { } sub)
                table.AddRow("subwords", $"character {sub.min_n}–{sub.max_n}-grams in {sub.buckets} buckets: words outside the " +
                    "vocabulary " +
                    "have vectors");
            foreach (var r in rows) table.AddRow(Markup.Escape(KeyText.Visible(r.key)),
                Markup.Escape($"‖v‖ {r.norm:F4}  " +
                $"[{string.Join(", ", r.head.Select(v => v.ToString("F4")))}{(kv.Dimensions > 5 ? ", …" : "")}]"));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
