using System.CommandLine;
using Spectre.Console;
using TokenSpace.Evaluation;
using TokenSpace.Formats;
using TokenSpace.IO;

namespace TokenSpace.Cli.Commands;

/// <summary>
/// <c>tokenspace evaluate analogies|pairs --vectors FILE --dataset FILE</c> (gensim's protocols).
/// <c>evaluate loss --checkpoint DIR --data FILE</c> (<see cref="EvaluateLossCommand"/>) and
/// <c>evaluate formation --snapshots DIR</c> (<see cref="EvaluateFormationCommand"/>).
/// </summary>
static class EvaluateCommand
{
    public static Command Create()
    {
        var command = new Command("evaluate", "Evaluate vectors or a model on a dataset");
        command.Subcommands.Add(Analogies());
        command.Subcommands.Add(Pairs());
        command.Subcommands.Add(EvaluateLossCommand.Create());
        command.Subcommands.Add(EvaluateFormationCommand.Create());
        return command;
    }

    static Option<string> Dataset(string description) => new("--dataset") { Description = description, Required = true };

    static readonly Option<int> Restrict = new("--restrict-vocab") { Description = "Use only the first N keys",
        DefaultValueFactory = _ => 300000 };

    static readonly Option<bool> CaseSensitive = new("--case-sensitive") { Description = "Compare words as written (gensim: " +
        "case_insensitive=False)" };

    static readonly Option<bool> Dummy4Unknown = new("--dummy4unknown") { Description = "Count questions with unknown words as wrong " +
        "(pairs: similarity 0) instead of skipping them" };

    static Command Analogies()
    {
        var vectors = VectorOptions.Vectors();
        var dataset = Dataset("Analogy questions in the Google format: a file, or the data set questions-words");
        var command = new Command("analogies", "Analogy accuracy, gensim's evaluate_word_analogies") { vectors, dataset, Restrict,
            CaseSensitive, Dummy4Unknown };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            using var kv = VectorOptions.Load(parse, vectors);
            var r = kv.EvaluateWordAnalogies(DataCache.ResolveFile(parse.GetValue(dataset)!), parse.GetValue(Restrict),
                !parse.GetValue(CaseSensitive), parse.GetValue(Dummy4Unknown));
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(new
                {
                    accuracy = r.Accuracy,
                    correct = r.Correct,
                    incorrect = r.Incorrect,
                    skipped = r.Skipped,
                    sections = r.Sections.Select(s => new { section = s.Section, correct = s.Correct, incorrect = s.Incorrect }),
                });
                return 0;
            }
            var table = new Table().AddColumn("section").AddColumn(new TableColumn("accuracy").RightAligned())
                .AddColumn(new TableColumn("correct").RightAligned()).AddColumn(new TableColumn("incorrect").RightAligned());
            foreach (var s in r.Sections) table.AddRow(Markup.Escape(s.Section), $"{100 * s.Accuracy:F1}%", s.Correct.ToString(),
                s.Incorrect.ToString());
            table.AddRow("[bold]total[/]", $"[bold]{100 * r.Accuracy:F2}%[/]", r.Correct.ToString(), r.Incorrect.ToString());
            AnsiConsole.Write(table);
            Console.WriteLine($"{r.Skipped} of {r.Questions} questions skipped (a word outside the first {parse.GetValue(Restrict)} keys)");
            return 0;
        }));
        return command;
    }

    static Command Pairs()
    {
        var vectors = VectorOptions.Vectors();
        var dataset = Dataset("Word pairs with human scores, tab-separated: a file, or the data set wordsim353");
        var command = new Command("pairs", "Correlation with human similarity scores, gensim's evaluate_word_pairs") { vectors, dataset,
            Restrict, CaseSensitive, Dummy4Unknown };
        VectorOptions.AddLoadOptions(command);
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            using var kv = VectorOptions.Load(parse, vectors);
            var r = kv.EvaluateWordPairs(DataCache.ResolveFile(parse.GetValue(dataset)!), '\t', parse.GetValue(Restrict),
                !parse.GetValue(CaseSensitive), parse.GetValue(Dummy4Unknown));
            if (parse.GetValue(CliOptions.Json))
            {
                CliOptions.WriteJson(new { pearson = r.Pearson, spearman = r.Spearman, oov_ratio = r.OovRatio, pairs = r.Pairs });
                return 0;
            }
            Console.WriteLine($"pearson {r.Pearson:F4}  spearman {r.Spearman:F4}  pairs {r.Pairs}  out of vocabulary {r.OovRatio:F1}%");
            return 0;
        }));
        return command;
    }
}
