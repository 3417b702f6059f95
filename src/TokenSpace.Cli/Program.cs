using System.CommandLine;
using TokenSpace.Cli;
using TokenSpace.Cli.Commands;

var root = new RootCommand("TokenSpace: learn, load, query and map token embeddings.");
root.Options.Add(CliOptions.Json);
root.Options.Add(CliOptions.Threads);
root.Options.Add(CliOptions.Verbose);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(MapCommand.Create());
root.Subcommands.Add(HeatmapCommand.Create());
return root.Parse(args).Invoke();
