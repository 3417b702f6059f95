using System.CommandLine;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace demo</c>: the main job.</summary>
static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "The main job: show token embeddings at work");
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            Console.WriteLine("TokenSpace demo");
            return 0;
        }));
        return command;
    }
}
