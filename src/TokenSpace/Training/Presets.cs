using TokenSpace.Model;

namespace TokenSpace.Training;

/// <summary>A named model shape and training recipe; every CLI option can override a part of it.</summary>
/// <param name="Model">The architecture for a given vocabulary size.</param>
public sealed record Preset(string Name, string Description, Func<int, GptConfig> Model, TrainOptions Options);

/// <summary>The built-in presets.</summary>
public static class Presets
{
    /// <summary>Karpathy's microgpt gist: its exact model, Adam(0.01, 0.85, 0.99, 1e-8), linear decay to 0, 1000 steps of one
    /// document.</summary>
    public static readonly Preset MicroGpt = new("microgpt", "Karpathy's microgpt: 1 layer, 16 channels, one name per step, 1000 steps",
        GptConfig.MicroGpt, new TrainOptions { EvalEvery = 250 });

    /// <summary>
    /// nanoGPT's config/train_shakespeare_char.py on top of its train.py defaults (bias off, AdamW β1 0.9,
    /// weight decay 0.1, clip 1.0, cosine decay).
    /// </summary>
    public static readonly Preset ShakespeareChar = new("shakespeare-char",
        "nanoGPT's shakespeare_char: 6 layers, 6 heads, 384 channels, block 256, 5000 steps",
        v => new GptConfig { VocabSize = v, BlockSize = 256, Layers = 6, Heads = 6, Channels = 384, Bias = false, Dropout = 0.2f },
        NanoGptOptions with { Steps = 5000, BatchSize = 64 });

    /// <summary>nanoGPT's CPU recipe for shakespeare_char, at block 128 and batch 16: minutes on 2 cores.</summary>
    public static readonly Preset ShakespeareCharSmall = new("shakespeare-char-small",
        "4 layers, 4 heads, 128 channels, block 128, batch 16, 2000 steps",
        v => new GptConfig { VocabSize = v, BlockSize = 128, Layers = 4, Heads = 4, Channels = 128, Bias = false },
        NanoGptOptions with { Steps = 2000, BatchSize = 16 });

    /// <summary>Every preset by name.</summary>
    public static IReadOnlyDictionary<string,
        Preset> All { get; } = new[] { MicroGpt, ShakespeareChar, ShakespeareCharSmall }.ToDictionary(p => p.Name);

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such preset; lists the known ones.</exception>
    public static Preset Get(string name) =>
        All.TryGetValue(name, out var p) ? p
            : throw new ArgumentException($"unknown preset '{name}'; known: {string.Join(", ", All.Keys)}");

    static TrainOptions NanoGptOptions => new()
    {
        LearningRate = 1e-3f,
        MinLearningRate = 1e-4f,
        WarmupSteps = 100,
        Schedule = LrSchedule.Cosine,
        Beta1 = 0.9f,
        Beta2 = 0.99f,
        WeightDecay = 0.1f,
        GradClip = 1f,
        Mode = DataMode.Text,
        EvalEvery = 250,
    };
}
