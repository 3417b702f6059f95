using System.CommandLine;
using TokenSpace.Cli;
using TokenSpace.Cli.Commands;

var root = new RootCommand("TokenSpace: learn, load, query and map token embeddings.");
root.Options.Add(CliOptions.Json);
root.Options.Add(CliOptions.Threads);
root.Options.Add(CliOptions.Verbose);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(new Command("evaluate", "Evaluate a model") { EvaluateLossCommand.Create() }); // temporary parent until the evaluate verb lands
return root.Parse(args).Invoke();
