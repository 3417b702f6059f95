using System.CommandLine;
using TokenSpace.Formats;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace sample</c>: generates text from a trained checkpoint.</summary>
static class SampleCommand
{
    static readonly Option<string> CheckpointDir = new("--checkpoint") { Description = "Checkpoint directory written by train or demo",
        Required = true };
    static readonly Option<int> Count = new("--count") { Description = "How many samples", DefaultValueFactory = _ => 10 };
    static readonly Option<float> Temperature = new("--temperature") { Description = "Divide logits by this (0: most likely token)",
        DefaultValueFactory = _ => 0.8f };
    static readonly Option<int> TopK = new("--top-k") { Description = "Draw only from the k most likely tokens (0: all)",
        DefaultValueFactory = _ => 0 };
    static readonly Option<string> Prompt = new("--prompt") { Description = "Text each sample starts with", DefaultValueFactory = _ => "" };
    static readonly Option<int?> MaxTokens = new("--max-tokens") { Description = "New tokens per sample (default: block size for " +
        "documents, 500 for text)" };
    static readonly Option<ulong> Seed = new("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 42 };

    public static Command Create()
    {
        var command = new Command("sample", "Generate text from a trained checkpoint") { CheckpointDir, Count, Temperature, TopK, Prompt,
            MaxTokens, Seed };
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string dir = parse.GetValue(CheckpointDir)!;
            var (model, tokenizer) = Checkpoint.Load(dir);
            // A Hugging Face folder has no training options: GPT-2 reads running text.
            var mode = TrainingState.ReadOptions(dir)?.Mode ?? TextData.DefaultMode(tokenizer);
            string prompt = parse.GetValue(Prompt)!;
            int count = parse.GetValue(Count);
            if (count < 0) throw new ArgumentException($"--count must not be negative, got {count}");
            // BOS, or GPT-2's <|endoftext|>: documents start after it, and a sample ends when it is drawn.
            int separator = tokenizer.DocumentSeparator;
            // Documents start after BOS; running text has no BOS in training, so it starts from the prompt alone.
            int[] start = mode == DataMode.Lines ? [separator, .. tokenizer.EncodeToIds(prompt)] : tokenizer.EncodeToIds(prompt);
            if (start.Length == 0) start = tokenizer.TextStart;
            int maxTokens = parse.GetValue(MaxTokens) ?? (mode == DataMode.Lines ? model.Config.BlockSize : 500);
            if (maxTokens < 1) throw new ArgumentException($"--max-tokens must be at least 1, got {maxTokens}");
            if (parse.GetValue(TopK) < 0) throw new ArgumentException($"--top-k must not be negative, got {parse.GetValue(TopK)} (0 " +
                "draws " +
                "from every token)");
            var rng = new Rng(parse.GetValue(Seed));
            var samples = new List<string>();
            for (int i = 0; i < count; i++)
            {
                var ids = Sampler.Generate(model, start, maxTokens, parse.GetValue(Temperature), parse.GetValue(TopK), rng, separator);
                samples.Add(prompt + tokenizer.Decode(ids));
            }
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(new { samples });
            else samples.ForEach(Console.WriteLine);
            return 0;
        }));
        return command;
    }
}
