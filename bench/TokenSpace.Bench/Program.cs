using TokenSpace.Bench;

// Each benchmark prints JSON lines on stdout: one object per measurement.
var benches = new Dictionary<string, Action<string[]>>
{
    ["train"] = TrainBench.Run,
};

if (args.Length == 0 || !benches.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: dotnet run -c Release --project bench/TokenSpace.Bench -- <{string.Join('|', benches.Keys)}> [options]");
    return 2;
}
run(args[1..]);
return 0;
