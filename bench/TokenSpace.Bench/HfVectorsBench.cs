using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TokenSpace.Tensors;

namespace TokenSpace.Bench;

/// <summary>
/// <c>hfvectors</c>: a large model's embedding as TokenSpace meets it. Writes a synthetic sharded Hugging Face
/// checkpoint (default 128,256 × 4,096 BF16, Llama 3's shape: ~1 GB in shard 1 of 2, a small tensor in shard 2, the index, a
/// byte-level tokenizer.json), then runs <c>tokenspace neighbors --vectors DIR " tok10" --json</c> as a new process under
/// <c>/usr/bin/time -v</c>, several rounds: wall time from start to exit (the first answer) and the process's peak RSS.
/// Targets (issue 15): first answer ≤ 2 s, peak RSS ≤ 1.1 × the tensor's bytes. The shards are in the page cache
/// (just written): the figures are warm-cache ones.
/// usage: hfvectors [--rows N] [--dims N] [--rounds N] [--dir DIR (kept)]
/// </summary>
static class HfVectorsBench
{
    public static void Run(string[] args)
    {
        int rows = Measure.Option(args, "--rows", 128_256), dims = Measure.Option(args, "--dims", 4096), rounds = Measure.Option(args, "--rounds", 3);
        string? kept = Measure.Option(args, "--dir");
        string dir = kept ?? Directory.CreateTempSubdirectory("tokenspace-hfvectors-").FullName;
        Directory.CreateDirectory(dir);
        try
        {
            var clock = Stopwatch.StartNew();
            long tensorBytes = Write(dir, rows, dims);
            Console.Error.WriteLine($"wrote {tensorBytes / 1e9:F2} GB of BF16 in {clock.Elapsed.TotalSeconds:F1} s");
            string cli = Path.Combine(AppContext.BaseDirectory, "TokenSpace.Cli.dll");
            var seconds = new List<double>();
            var rss = new List<long>();
            string first = "";
            for (int r = 0; r < rounds; r++)
            {
                var (wall, peak, output) = RunCli(cli, dir);
                seconds.Add(wall);
                rss.Add(peak);
                first = JsonDocument.Parse(output).RootElement.GetProperty("results")[0].GetProperty("neighbors")[0].GetProperty("key").GetString()!;
            }
            Measure.Emit(new
            {
                bench = "hfvectors",
                rows,
                dims,
                dtype = "BF16",
                shards = 2,
                tensor_bytes = tensorBytes,
                first_answer_s = Measure.Median(seconds),
                first_answer_runs_s = seconds,
                peak_rss_bytes = rss.Max(),
                peak_rss_over_tensor = (double)rss.Max() / tensorBytes,
                first_neighbor = first,
                target_first_answer_s = 2.0,
                target_peak_rss_over_tensor = 1.1,
                cache = "warm (shards just written)",
                threads = Threads.Count,
            });
        }
        finally
        {
            if (kept is null) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>One `neighbors` run under /usr/bin/time -v: wall seconds, peak RSS in bytes, stdout.</summary>
    static (double Seconds, long PeakRss, string Output) RunCli(string cli, string dir)
    {
        var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-v", "dotnet", cli, "neighbors", "--vectors", dir, " tok10", "--top", "10", "--json" }) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        double seconds = clock.Elapsed.TotalSeconds;
        string err = stderr.Result;
        if (process.ExitCode != 0) throw new InvalidOperationException($"neighbors failed: {err}");
        string line = err.Split('\n').First(l => l.Contains("Maximum resident set size", StringComparison.Ordinal));
        long kb = long.Parse(line[(line.LastIndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
        return (seconds, kb * 1024, output);
    }

    /// <summary>Writes the checkpoint into <paramref name="dir"/>; returns the embedding's bytes.</summary>
    static long Write(string dir, int rows, int dims)
    {
        const string Embedding = "model.embed_tokens.weight", Norm = "model.norm.weight";
        string shard1 = "model-00001-of-00002.safetensors", shard2 = "model-00002-of-00002.safetensors";
        long bytes = 2L * rows * dims;
        WriteShard(Path.Combine(dir, shard1), Embedding, [rows, dims], bytes, stream =>
        {
            var rng = new Rng(42);
            var values = new float[dims];
            var chunk = new byte[2 * dims];
            for (int r = 0; r < rows; r++)
            {
                rng.FillUniform(values, -1, 1);
                for (int j = 0; j < dims; j++) BinaryPrimitives.WriteUInt16LittleEndian(chunk.AsSpan(2 * j), (ushort)(BitConverter.SingleToUInt32Bits(values[j]) >> 16));
                stream.Write(chunk);
            }
        });
        WriteShard(Path.Combine(dir, shard2), Norm, [dims], 2L * dims, stream => stream.Write(new byte[2 * dims]));
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), JsonSerializer.Serialize(new
        {
            metadata = new { total_size = bytes + 2L * dims },
            weight_map = new Dictionary<string, string> { [Embedding] = shard1, [Norm] = shard2 },
        }));
        int added = Math.Min(256, rows);
        var vocab = new Dictionary<string, int>();
        for (int i = 0; i < rows - added; i++) vocab[(i % 2 == 0 ? "Ġ" : "") + "tok" + i.ToString(CultureInfo.InvariantCulture)] = i;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), JsonSerializer.Serialize(new
        {
            version = "1.0",
            added_tokens = Enumerable.Range(rows - added, added).Select(i => new { id = i, content = $"<|reserved_special_token_{i}|>", special = true }),
            decoder = new { type = "ByteLevel" },
            model = new { type = "BPE", vocab, merges = Array.Empty<string>() },
        }));
        return bytes;
    }

    static void WriteShard(string path, string name, long[] shape, long bytes, Action<Stream> data)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { [name] = new { dtype = "BF16", shape, data_offsets = new[] { 0, bytes } } });
        int padded = (json.Length + 7) / 8 * 8;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        stream.Write(prefix);
        stream.Write(json);
        stream.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
        data(stream);
    }
}
