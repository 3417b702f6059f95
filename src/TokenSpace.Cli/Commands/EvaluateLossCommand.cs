using System.CommandLine;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace evaluate loss</c>: a checkpoint's mean next-token loss on a text file.</summary>
static class EvaluateLossCommand
{
    static readonly Option<string> CheckpointDir = new("--checkpoint") { Description = "Checkpoint directory", Required = true };
    static readonly Option<string> Data = new("--data") { Description = "Text to score (UTF-8), or a data set name (tinyshakespeare, " +
        "names)", Required = true };
    static readonly Option<string?> Mode = new("--mode") { Description = "lines or text (default: as the checkpoint was trained)" };
    static readonly Option<bool> ReplaceInvalidUtf8 = new("--replace-invalid-utf8") { Description = "Read invalid UTF-8 in the text as " +
        "U+FFFD instead of stopping" };

    /// <summary>The <c>loss</c> subcommand, to be attached under <c>evaluate</c>.</summary>
    public static Command Create()
    {
        var command = new Command("loss",
            "Mean next-token loss (nats) of a checkpoint on a text: documents as in training, or non-overlapping windows")
        {
            CheckpointDir, Data, Mode, ReplaceInvalidUtf8,
        };
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            string dir = parse.GetValue(CheckpointDir)!;
            // Up to 16 windows per forward, fewer when their logits would pass 2^25 floats (GPT-2: one window of 1024).
            var config = Checkpoint.ReadConfig(dir);
            int maxBatch = (int)Math.Clamp((1L << 25) / ((long)config.BlockSize * config.VocabSize), 1, 16);
            var (model, tokenizer) = Checkpoint.Load(dir, maxBatch);
            // A Hugging Face folder has no training options: GPT-2 reads running text.
            var mode = parse.GetValue(Mode) is { } m ? TrainCommand.ParseMode(m)
                : TrainingState.ReadOptions(dir)?.Mode ?? TextData.DefaultMode(tokenizer);
            var data = TextData.Load(DataCache.ResolveFile(parse.GetValue(Data)!), tokenizer, mode, parse.GetValue(ReplaceInvalidUtf8));
            var (loss, tokens) = Evaluator.Loss(model, data);
            // Finite weights can still overflow the logits; a NaN printed with exit 0 would pass for a result.
            if (!double.IsFinite(loss)) throw new InvalidOperationException($"the loss of {dir} on this text is {loss}: the model's " +
                "logits overflow");
            if (parse.GetValue(CliOptions.Json)) CliOptions.WriteJson(new { loss, tokens });
            else Console.WriteLine($"loss {loss:F4} over {tokens:N0} tokens");
            return 0;
        }));
        return command;
    }
}
