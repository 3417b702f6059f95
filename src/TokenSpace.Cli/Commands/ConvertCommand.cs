using System.CommandLine;
using TokenSpace.Formats;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace convert --vectors IN --out OUT [--to FORMAT]</c>: between the formats of Formats/.</summary>
static class ConvertCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        var output = new Option<string>("--out") { Description = "Output file (a folder for the projector format)", Required = true };
        var to = new Option<string?>("--to") { Description = $"Output format: {string.Join(", ", VectorsFile.WritableFormats)} "
            + "(default: from the extension: .bin .txt .vec .glove .tsvec .npy .safetensors, folder → projector; "
            + ".npy and .safetensors get NAME.keys.txt beside them)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace --out when it exists" };
        var command = new Command("convert", "Convert vectors between formats (written atomically)") { vectors, output, to, overwrite };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string path = parse.GetValue(output)!;
            if (!parse.GetValue(overwrite) && (File.Exists(path) || Directory.Exists(path)))
                throw new IOException($"{path} already exists; pass --overwrite to replace it, or give another --out");
            using var kv = VectorOptions.Load(parse, vectors);
            var format = parse.GetValue(to) is { } name ? VectorsFile.ParseFormat(name) : VectorsFile.FormatFromExtension(path);
            VectorsFile.Save(kv, path, format);
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(new { path, format = VectorsFile.NameOf(format), count = kv.Count,
                dimensions = kv.Dimensions });
            else Console.WriteLine($"wrote {kv.Count} × {kv.Dimensions} as {VectorsFile.NameOf(format)} to {path}");
            return 0;
        }));
        return command;
    }
}
