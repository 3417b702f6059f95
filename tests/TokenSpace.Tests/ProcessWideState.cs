namespace TokenSpace.Tests;

/// <summary>
/// Test classes that set <c>Threads.Count</c> or swap <c>Console.Out</c>/<c>Console.Error</c>. They change
/// process-wide state, so they run alone, after the parallel classes; alone also means a two-thread test
/// really gets the worker pool (<c>Threads.For</c> runs serially while another test's loop holds it).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideState
{
    public const string Name = "Process-wide state";
}
