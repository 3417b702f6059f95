using TokenSpace.Cli;
using TokenSpace.Cli.Commands;
using TokenSpace.Training;

namespace TokenSpace.Tests.Cli;

/// <summary>The library's errors speak its API's names; the CLI prints them as flags.</summary>
public sealed class LibraryTermsTests
{
    [Theory]
    [InlineData(nameof(TrainOptions.Steps), -1, "--steps must not be negative, got -1")]
    [InlineData(nameof(TrainOptions.BatchSize), 0, "--batch-size must be at least 1, got 0")]
    [InlineData(nameof(TrainOptions.WarmupSteps), -2, "--warmup must not be negative, got -2")]
    public void ToCli_TrainOptionsError_NamesTheFlag(string option, int value, string expected)
    {
        var options = option switch
        {
            nameof(TrainOptions.Steps) => new TrainOptions { Steps = value },
            nameof(TrainOptions.BatchSize) => new TrainOptions { BatchSize = value },
            _ => new TrainOptions { WarmupSteps = value },
        };
        var e = Assert.Throws<ArgumentException>(() => options.Validate());
        Assert.StartsWith($"TrainOptions.{option} ", e.Message);
        Assert.Equal(expected, LibraryTerms.ToCli(e.Message));
    }

    [Fact]
    public void ToCli_MinLearningRateAboveLearningRate_ReadsAsBefore()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainOptions { LearningRate = 0.01f, MinLearningRate = 0.1f }.Validate());
        Assert.Equal("--min-lr must lie in [0, lr], got 0.1", LibraryTerms.ToCli(e.Message));
    }

    [Fact]
    public void Terms_NameRealPropertiesAndRealFlags()
    {
        var properties = typeof(TrainOptions).GetProperties().Select(p => p.Name).ToHashSet();
        var flags = TrainCommand.Create().Options.Select(o => o.Name).ToHashSet();
        foreach (var (library, cli) in LibraryTerms.Terms.Where(t => t.Library.StartsWith("TrainOptions.", StringComparison.Ordinal)))
        {
            Assert.Contains(library["TrainOptions.".Length..], properties);
            if (cli.StartsWith("--", StringComparison.Ordinal)) Assert.Contains(cli, flags);
        }
        // No phrase may hide inside another, or the order of replacement would matter.
        foreach (var (a, _) in LibraryTerms.Terms)
            Assert.DoesNotContain(LibraryTerms.Terms, t => t.Library != a && t.Library.Contains(a, StringComparison.Ordinal));
    }
}
