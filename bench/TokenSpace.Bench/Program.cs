using TokenSpace.Bench;

// Each benchmark prints JSON lines on stdout: one object per measurement.
var benches = new Dictionary<string, Action<string[]>>
{
    ["embedding"] = EmbeddingBench.Run,
    ["matmul"] = MatMulBench.Run,
    ["bpe"] = BpeBench.Run,
    ["vectors"] = VectorsBench.Run,
    ["ann"] = AnnBench.Run,
    ["maps"] = MapsBench.Run,
    ["train"] = TrainBench.Run,
    ["gpt2"] = Gpt2Bench.Run,
    ["nanogpt"] = NanoGptBench.Run,
    ["positions"] = PositionsBench.Run,
    ["sample"] = SampleBench.Run,
    ["serve"] = ServeBench.Run,
    ["web"] = WebBench.Run,
    ["hfvectors"] = HfVectorsBench.Run,
    ["memory"] = MemoryBench.Run,
};

if (args.Length == 0 || !benches.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: dotnet run -c Release --project bench/TokenSpace.Bench -- <{string.Join('|', benches.Keys)}> [--threads N] [options]");
    return 2;
}
// `--threads N` (anywhere after the name) sets the kernels' thread count, as the CLI's option does.
var rest = args[1..].ToList();
int at = rest.IndexOf("--threads");
if (at >= 0 && at + 1 < rest.Count)
{
    TokenSpace.Tensors.Threads.Count = int.Parse(rest[at + 1], System.Globalization.CultureInfo.InvariantCulture);
    rest.RemoveRange(at, 2);
}
run([.. rest]);
return 0;
