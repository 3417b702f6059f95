using System.Numerics.Tensors;
using TokenSpace.Cli.Commands;
using TokenSpace.Formats;
using TokenSpace.Training;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Cli;

public sealed class DemoMapsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tokenspace-demomaps").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Mean cosine between vowels minus mean cosine between a vowel and a consonant (a–z only).</summary>
    static double VowelGap(KeyedVectors wte)
    {
        var letters = wte.Keys.Where(k => LetterGroups.Of(k) is "vowel" or "consonant").ToList();
        double within = 0, across = 0;
        int nWithin = 0, nAcross = 0;
        foreach (string a in letters.Where(k => LetterGroups.Of(k) == "vowel"))
        {
            foreach (string b in letters.Where(k => k != a))
            {
                double cos = TensorPrimitives.CosineSimilarity(wte.GetVector(a), wte.GetVector(b));
                if (LetterGroups.Of(b) == "vowel") { within += cos; nWithin++; }
                else { across += cos; nAcross++; }
            }
        }
        return within / nWithin - across / nAcross;
    }

    [Fact]
    public void Demo_1000Steps_VowelsSeparateFromConsonants()
    {
        // The demo's own run: microgpt on the built-in names, seed 42, snapshots at steps 0 and 1000.
        string names = Path.Combine(AppContext.BaseDirectory, "Data", "names.txt");
        var preset = Presets.MicroGpt;
        var options = preset.Options with { Seed = 42, SnapshotEvery = 1000, EvalEvery = 0 };
        TrainCommand.Run(names, null, preset.Model, options, dir, new TrainCommand.RunSettings { Quiet = true });

        using var before = VectorsFile.Load(Path.Combine(dir, "snapshots", "step-000000.safetensors"));
        using var after = VectorsFile.Load(dir);

        Assert.Equal(26, after.Keys.Count(k => LetterGroups.Of(k) is "vowel" or "consonant"));
        Assert.InRange(VowelGap(before), -0.2, 0.2);   // random init: no structure
        Assert.True(VowelGap(after) > 0.5, $"vowel gap after training: {VowelGap(after):F3}");
    }
}
