using System.CommandLine;
using TokenSpace.Cli;
using TokenSpace.Cli.Commands;

var root = new RootCommand("TokenSpace: learn, load, query and map token embeddings.");
root.Options.Add(CliOptions.Json);
root.Options.Add(CliOptions.Threads);
root.Options.Add(CliOptions.Verbose);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(NeighborsCommand.Create());
root.Subcommands.Add(AnalogyCommand.Create());
root.Subcommands.Add(SimilarityCommand.Create());
root.Subcommands.Add(DistanceCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
return root.Parse(args).Invoke();
