using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TokenSpace.Server;

namespace TokenSpace.Tests.Server;

/// <summary>
/// Many t-SNE streams opened and abandoned: each gets its headers and <c>start</c> event at once, and once they
/// have all gone nothing computes. Alone (process-wide state) so the process's CPU time is this test's.
/// </summary>
[Collection(ProcessWideState.Name)]
public sealed class ProjectionStreamTests(SmallExplorer explorer) : IClassFixture<SmallExplorer>
{
    [Fact]
    public async Task Projection_HundredStreamsOpenedAndLeft_StartAtOnceAndLeaveNoCpuBusy()
    {
        var cancel = TestContext.Current.CancellationToken;
        var projections = explorer.Services.GetRequiredService<Projections>();
        using var client = explorer.CreateClient();
        var clients = Enumerable.Range(0, 100).Select(async i =>
        {
            using var response = await client.GetAsync($"/api/projection?space=random&method=tsne&top=3000&iterations=5000&seed={i}&stream=1",
                HttpCompletionOption.ResponseHeadersRead, cancel);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel));
            // Only one t-SNE computes at a time (two cores): the other 99 still get their first event before leaving.
            return await reader.ReadLineAsync(cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(20), cancel);
        }).ToArray();
        Assert.All(await Task.WhenAll(clients), first => Assert.Equal("event: start", first));

        var clock = Stopwatch.StartNew();
        while ((projections.Active > 0 || projections.Waiting > 0) && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20, cancel);
        Assert.Equal((0, 0), (projections.Active, projections.Waiting));
        await Task.Delay(1000, cancel); // the JIT's background compilation and the GC after 100 requests settle
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        clock.Restart();
        await Task.Delay(2000, cancel);
        process.Refresh();
        double cores = (process.TotalProcessorTime - cpu) / clock.Elapsed;
        // A t-SNE left running keeps the cores busy (1.0 and more); an idle test host uses a few percent.
        Assert.True(cores < 0.25, $"the process used {cores:P0} of a core in the 2 s after the streams left");
    }
}
