using System.CommandLine;
using System.Diagnostics;
using TokenSpace.Vectors;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace index build --vectors X</c>: the approximate-neighbour index that <c>neighbors --approx</c> searches.</summary>
static class IndexCommand
{
    public static Command Create()
    {
        var vectors = VectorOptions.Vectors();
        var connectivity = new Option<int>("--connectivity")
        {
            Description = "HNSW's M: links per node (more: better recall, bigger index, slower build)",
            DefaultValueFactory = _ => new ApproximateIndexOptions().Connectivity,
        };
        var expansionAdd = new Option<int>("--expansion-add")
        {
            Description = "HNSW's efConstruction: candidates kept while linking a node (more: better graph, slower build)",
            DefaultValueFactory = _ => new ApproximateIndexOptions().ExpansionAdd,
        };
        var dtype = new Option<string>("--dtype")
        {
            Description = "How the index stores the vectors: f32, f16 (half the size) or i8 (a quarter)",
            DefaultValueFactory = _ => "f32",
        };
        var output = new Option<string?>("--out") { Description = "Index file (default: beside the vectors, with .ann appended)" };
        var build = new Command("build", "Build the index of a set of vectors and write it beside them (deterministic with --threads 1)")
        {
            vectors, connectivity, expansionAdd, dtype, output,
        };
        VectorOptions.AddLoadOptions(build, storage: false);
        build.SetAction(parse => CliOptions.Run(parse, () =>
        {
            var options = new ApproximateIndexOptions
            {
                Connectivity = parse.GetValue(connectivity),
                ExpansionAdd = parse.GetValue(expansionAdd),
                Dtype = parse.GetValue(dtype) switch
                {
                    "f32" => IndexDtype.Float32,
                    "f16" => IndexDtype.Float16,
                    "i8" => IndexDtype.Int8,
                    var other => throw new ArgumentException($"--dtype must be f32, f16 or i8, got '{other}'"),
                },
            };
            if (options.Connectivity < 2) throw new ArgumentException($"--connectivity must be at least 2, got {options.Connectivity}");
            if (options.ExpansionAdd < 1) throw new ArgumentException($"--expansion-add must be at least 1, got {options.ExpansionAdd}");
            using var kv = VectorOptions.Load(parse, vectors);
            string path = parse.GetValue(output) ?? ApproximateIndex.PathBeside(VectorOptions.Resolve(parse.GetValue(vectors)!));
            var clock = Stopwatch.StartNew();
            var index = VectorOptions.WithProgress(true, $"indexing {kv.Count:N0} rows", report => kv.BuildIndex(path, options, report));
            double seconds = clock.Elapsed.TotalSeconds;
            long bytes = new FileInfo(path).Length;
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(new
                {
                    path, rows = index.Count, dimensions = index.Dimensions, options.Connectivity, options.ExpansionAdd,
                    dtype = parse.GetValue(dtype), bytes, seconds, simd = ApproximateIndex.HardwareAcceleration,
                });
            }
            else
            {
                Console.WriteLine($"{path}: {index.Count:N0} × {index.Dimensions} ({parse.GetValue(dtype)}, M {options.Connectivity}, "
                    + $"efConstruction {options.ExpansionAdd}), {bytes / 1048576.0:F1} MiB in {seconds:F1} s "
                    + $"({ApproximateIndex.HardwareAcceleration})");
            }
            return 0;
        }));
        return new Command("index", "Approximate-neighbour indexes (HNSW graphs)") { build };
    }
}
