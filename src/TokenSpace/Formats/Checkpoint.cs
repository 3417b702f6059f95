using System.Text.Json;
using System.Text.Json.Nodes;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;

namespace TokenSpace.Formats;

/// <summary>
/// A checkpoint directory:
/// <list type="bullet">
/// <item><c>model.safetensors</c>: every parameter under its Hugging Face GPT-2 name, Linear weights in
/// Conv1D (in, out) layout (c_attn columns q | k | v), lm_head.weight (V, C) only when untied, and no tensor
/// the architecture lacks (RMSNorm has no weights; no biases without <c>bias</c>).</item>
/// <item><c>config.json</c>: HF GPT-2 keys plus <c>norm</c>, <c>bias</c>, <c>embedding_norm</c>, <c>final_norm</c>,
/// <c>scale_residual_init</c> and <c>positions</c> (learned, sinusoidal, rope or none; no <c>wpe.weight</c> unless learned).</item>
/// <item><c>tokenizer.json</c>: the tokenizer (for GPT-2's BPE with <c>vocab.json</c> + <c>merges.txt</c>, see
/// <see cref="CheckpointTokenizer"/>).</item>
/// <item>to resume training: <c>optimizer.safetensors</c> (tensors <c>m</c>, <c>v</c> over the flat parameter
/// buffer) and <c>trainer.json</c> (step, Rng state, options, data hash), written by the trainer's state
/// (<c>TokenSpace.Training.TrainingState</c>) through <see cref="Save"/>'s <c>writeState</c>.</item>
/// </list>
/// A save replaces these files as one set (<see cref="AtomicDirectory"/>): a crash at any point leaves the old or the
/// new checkpoint once <see cref="Recover(string)"/> has run, and the directory itself, with <c>.lock</c> and <c>snapshots/</c>,
/// never moves.
/// </summary>
public static partial class Checkpoint
{
    public const string ModelFile = "model.safetensors";
    public const string ConfigFile = "config.json";
    public const string TokenizerFile = ITokenizer.FileName;
    /// <summary>The optimizer's moments of a training run's state.</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>The rest of a training run's state (step, Rng, options, data hash).</summary>
    public const string StateFile = "trainer.json";

    /// <summary>The folder of wte/wpe snapshots inside a run's directory.</summary>
    public const string SnapshotsDir = "snapshots";

    static readonly string[] Files = [ModelFile, ConfigFile, TokenizerFile, Gpt2BpeTokenizer.VocabFile, Gpt2BpeTokenizer.MergesFile,
        OptimizerFile, StateFile];

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>
    /// Saves <paramref name="model"/>, its tokenizer and (when given) a training run's state into <paramref name="dir"/>,
    /// atomically (<see cref="AtomicDirectory"/>, which first finishes or clears what an interrupted save left inside).
    /// The caller holds the directory's <see cref="CheckpointLock"/> (a training run does, for its whole length).
    /// </summary>
    /// <param name="writeState">Writes <see cref="OptimizerFile"/> and <see cref="StateFile"/> into the folder it is given, with the rest
    /// of the new set.</param>
    public static void Save(string dir, Gpt model, ITokenizer tokenizer, Action<string>? writeState = null)
    {
        AtomicDirectory.Write(dir, Files, temp =>
        {
            WriteModel(Path.Combine(temp, ModelFile), model);
            AtomicFile.WriteAllText(Path.Combine(temp, ConfigFile), ConfigJson(model.Config).ToJsonString(Json) + "\n");
            tokenizer.SaveInto(temp);
            writeState?.Invoke(temp);
        });
    }

    /// <summary>
    /// Finishes or clears what an interrupted save left in (or, from saves before this layout, beside) <paramref name="dir"/>:
    /// a commit half done is completed, unfinished temporaries are deleted, and an older save's hidden
    /// <c>.NAME.old-*</c> copy gives back the checkpoint and <c>snapshots/</c> it held. Takes the directory's lock when
    /// free; when another process holds it (a run writing there), does nothing. <see cref="ReadConfig"/> (so <see cref="Load"/>)
    /// and the trainer's state readers call it, so <c>sample</c>, <c>evaluate</c> and <c>--resume</c> recover by themselves.
    /// </summary>
    public static void Recover(string dir)
    {
        var (full, legacy) = Leftovers(dir);
        bool snapshotLeftovers = Directory.Exists(Path.Combine(full, SnapshotsDir))
            && Directory.EnumerateFiles(Path.Combine(full, SnapshotsDir), ".*.tmp").Any();
        if (legacy.Length == 0 && !snapshotLeftovers && !AtomicDirectory.NeedsRecovery(full)) return;
        using var writer = CheckpointLock.TryAcquire(full);
        if (writer is not null) Recover(dir, writer);
    }

    /// <summary>As <see cref="Recover(string)"/>, by the holder of the directory's lock (a run, before it reads or writes).</summary>
    public static void Recover(string dir, CheckpointLock held)
    {
        ArgumentNullException.ThrowIfNull(held);
        var (full, legacy) = Leftovers(dir);
        AtomicDirectory.Recover(full, Files);
        AtomicFile.DeleteLeftovers(Path.Combine(full, SnapshotsDir));
        foreach (string old in legacy.Where(d => Path.GetFileName(d).StartsWith($".{Path.GetFileName(full)}.old-",
            StringComparison.Ordinal)))
        {
            // Whole when the crash struck between its two renames (the directory was then gone); else only what was
            // still to be carried over into the new directory, such as snapshots/.
            foreach (string entry in Directory.EnumerateFileSystemEntries(old))
            {
                string target = Path.Combine(full, Path.GetFileName(entry));
                if (File.Exists(target) || Directory.Exists(target)) continue;
                if (Directory.Exists(entry)) Directory.Move(entry, target);
                else File.Move(entry, target);
            }
        }
        foreach (string leftover in legacy) Directory.Delete(leftover, recursive: true);
    }

    /// <summary>The full path of <paramref name="dir"/> and the folders earlier saves, which swapped whole directories, left beside
    /// it.</summary>
    static (string Full, string[] Legacy) Leftovers(string dir)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        string parent = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        string[] legacy = Directory.Exists(parent)
            ? [.. Directory.GetDirectories(parent, $".{name}.old-*"), .. Directory.GetDirectories(parent, $".{name}.tmp-*")]
            : [];
        return (full, legacy);
    }

    /// <summary>Whether <paramref name="dir"/> holds a run: any checkpoint file, or <c>snapshots/</c>.</summary>
    public static bool HoldsRun(string dir) =>
        Files.Any(f => File.Exists(Path.Combine(dir, f))) || Directory.Exists(Path.Combine(dir, SnapshotsDir));

    /// <summary>Writes the parameters as safetensors with HF GPT-2 names and Conv1D layout.</summary>
    public static void WriteModel(string path, Gpt model)
    {
        var tensors = model.Slices.Select(s =>
        {
            var data = model.Parameters.AsMemory(s.Offset, s.Length);
            return (s.Name, s.FileShape, s.Conv1D ? (ReadOnlyMemory<float>)Transpose(data.Span, s.Shape[0], s.Shape[1]) : data);
        });
        SafetensorsFile.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>config.json's content for <paramref name="config"/>.</summary>
    public static JsonObject ConfigJson(GptConfig config) => new()
    {
        ["model_type"] = "gpt2",
        ["vocab_size"] = config.VocabSize,
        ["n_positions"] = config.BlockSize,
        ["n_embd"] = config.Channels,
        ["n_layer"] = config.Layers,
        ["n_head"] = config.Heads,
        ["layer_norm_epsilon"] = config.NormEpsilon,
        ["activation_function"] = config.Activation == Activation.Gelu ? "gelu_new" : "relu",
        ["tie_word_embeddings"] = config.TiedLmHead,
        ["initializer_range"] = config.InitStd,
        ["resid_pdrop"] = config.Dropout,
        ["embd_pdrop"] = config.Dropout,
        ["attn_pdrop"] = config.Dropout,
        ["norm"] = config.Norm == NormKind.LayerNorm ? "layernorm" : "rmsnorm",
        ["bias"] = config.Bias,
        ["embedding_norm"] = config.EmbeddingNorm,
        ["final_norm"] = config.FinalNorm,
        ["scale_residual_init"] = config.ScaleResidualInit,
        ["positions"] = PositionNames[config.Positions],
    };

    /// <summary>config.json's names for <see cref="PositionKind"/> (also <c>train --positions</c>'s).</summary>
    public static readonly IReadOnlyDictionary<PositionKind, string> PositionNames = new Dictionary<PositionKind, string>
    {
        [PositionKind.Learned] = "learned",
        [PositionKind.Sinusoidal] = "sinusoidal",
        [PositionKind.Rope] = "rope",
        [PositionKind.None] = "none",
    };

    /// <summary>The <see cref="PositionKind"/> called <paramref name="name"/> (<see cref="PositionNames"/>); null for another.</summary>
    public static PositionKind? ParsePositions(string name) =>
        PositionNames.Where(p => p.Value == name).Select(p => (PositionKind?)p.Key).FirstOrDefault();

    /// <summary>
    /// Reads <c>config.json</c>. Keys this project adds are optional and default to GPT-2's architecture,
    /// so a Hugging Face GPT-2 config reads too.
    /// </summary>
    /// <exception cref="FileFormatException">Not JSON, a required key missing, or a value of the wrong kind.</exception>
    public static GptConfig ReadConfig(string dir)
    {
        Recover(dir);
        string path = Path.Combine(dir, ConfigFile);
        CheckExists(dir, path);
        return ReadConfigFile(path);
    }

    /// <summary>Reads a config.json at <paramref name="path"/> (see <see cref="ReadConfig"/>).</summary>
    /// <exception cref="FileFormatException">Not JSON, a required key missing, or a value of the wrong kind.</exception>
    public static GptConfig ReadConfigFile(string path)
    {
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject()
                ?? throw new FileFormatException(path, "config.json is not a JSON object");
            int Int(string key) => root[key]?.GetValue<int>() ?? throw new FileFormatException(path, $"missing \"{key}\"");
            bool Bool(string key, bool fallback) => root[key]?.GetValue<bool>() ?? fallback;
            string activation = root["activation_function"]?.GetValue<string>() ?? "gelu_new";
            string norm = root["norm"]?.GetValue<string>() ?? "layernorm";
            string positions = root["positions"]?.GetValue<string>() ?? "learned";
            var config = new GptConfig
            {
                VocabSize = Int("vocab_size"),
                BlockSize = Int("n_positions"),
                Channels = Int("n_embd"),
                Layers = Int("n_layer"),
                Heads = Int("n_head"),
                NormEpsilon = root["layer_norm_epsilon"]?.GetValue<float>() ?? 1e-5f,
                Activation = activation switch
                {
                    "gelu_new" or "gelu_pytorch_tanh" => Activation.Gelu,
                    "relu" => Activation.Relu,
                    _ => throw new FileFormatException(path,
                        $"activation_function \"{activation}\" is not supported; expected gelu_new or relu"),
                },
                Norm = norm switch
                {
                    "layernorm" => NormKind.LayerNorm,
                    "rmsnorm" => NormKind.RmsNorm,
                    _ => throw new FileFormatException(path, $"norm \"{norm}\" is not supported; expected layernorm or rmsnorm"),
                },
                Positions = ParsePositions(positions)
                    ?? throw new FileFormatException(path,
                        $"positions \"{positions}\" is not supported; expected {string.Join(", ", PositionNames.Values)}"),
                TiedLmHead = Bool("tie_word_embeddings", true),
                Bias = Bool("bias", true),
                EmbeddingNorm = Bool("embedding_norm", false),
                FinalNorm = Bool("final_norm", true),
                InitStd = root["initializer_range"]?.GetValue<float>() ?? 0.02f,
                ScaleResidualInit = Bool("scale_residual_init", true),
                Dropout = root["resid_pdrop"]?.GetValue<float>() ?? 0f,
            };
            try
            {
                config.Validate();
            }
            catch (ArgumentException e)
            {
                throw new FileFormatException(path, e.Message, inner: e);
            }
            return config;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException and not FileFormatException)
        {
            throw new FileFormatException(path, $"not a valid GPT config.json: {e.Message}", inner: e);
        }
    }

    /// <summary>
    /// Loads a checkpoint for inference or further training: the model sized for batches up to
    /// (<paramref name="maxBatch"/>, <paramref name="maxT"/>) (0: block size), and its tokenizer. Dropout, gradients
    /// and the backward pass's buffers exist only <paramref name="forTraining"/> (inference needs none of them).
    /// </summary>
    /// <exception cref="FileFormatException">A file is missing, truncated, or does not match config.json (names the tensor and both
    /// shapes).</exception>
    public static (Gpt Model, ITokenizer Tokenizer) Load(string dir, int maxBatch = 1, int maxT = 0, bool forTraining = false)
    {
        var config = ReadConfig(dir);
        if (!forTraining) config = config with { Dropout = 0 };
        string tokPath = Path.Combine(dir, TokenizerFile);
        if (!File.Exists(Path.Combine(dir, Gpt2BpeTokenizer.VocabFile))) CheckExists(dir, tokPath);
        var tokenizer = CheckpointTokenizer.Load(dir);
        if (tokenizer.VocabSize != config.VocabSize)
            throw new FileFormatException(tokPath,
                $"the tokenizer has {tokenizer.VocabSize} tokens but config.json says vocab_size {config.VocabSize}");
        string modelPath = Path.Combine(dir, ModelFile);
        CheckExists(dir, modelPath);
        // Two bytes per parameter at the least (F16/BF16): a config that lies is caught before the model is allocated.
        long modelBytes = new FileInfo(modelPath).Length;
        if (2 * config.CoreParameters > modelBytes)
        {
            throw new FileFormatException(Path.Combine(dir, ConfigFile),
                $"config.json describes at least {config.CoreParameters:G4} parameters, more than the {modelBytes} bytes of {ModelFile} " +
                    "hold; is this the checkpoint's own config?");
        }
        var model = new Gpt(config, maxBatch, maxT, training: forTraining);
        ReadModel(modelPath, model);
        return (model, tokenizer);
    }

    /// <summary>Reads model.safetensors into <paramref name="model"/>'s parameters, checking every name and shape.</summary>
    /// <param name="allowExtra">Accept tensors the model does not have (golden files carry inputs and gradients too).</param>
    /// <exception cref="FileFormatException">A tensor is missing, extra, or of another shape.</exception>
    public static void ReadModel(string path, Gpt model, bool allowExtra = false)
    {
        CheckExists(Path.GetDirectoryName(path)!, path);
        var file = SafetensorsFile.Open(path);
        // Hugging Face's own GPT-2 files may prefix names with "transformer." and carry the causal-mask
        // buffers h.{i}.attn.bias / masked_bias, which are not parameters.
        var entries = new Dictionary<string, string>();
        foreach (var name in file.Entries.Keys)
        {
            string plain = PlainName(name);
            // Hugging Face may store the tied lm_head.weight as well; wte is the one that counts.
            if (MaskBuffer().IsMatch(plain) || (plain == "lm_head.weight" && model.Config.TiedLmHead)) continue;
            if (!allowExtra && !model.Slices.Any(s => s.Name == plain))
                throw new FileFormatException(path,
                    $"tensor '{name}' is not part of the architecture config.json describes; is this the checkpoint's own config?");
            entries[plain] = name;
        }
        foreach (var s in model.Slices)
        {
            if (!entries.TryGetValue(s.Name, out var stored) || !file.Entries.TryGetValue(stored, out var entry))
                throw new FileFormatException(path,
                    $"tensor '{s.Name}' [{string.Join(", ", s.FileShape)}] is missing; config.json and the weights disagree");
            if (!entry.Shape.SequenceEqual(s.FileShape))
                throw new FileFormatException(path,
                    $"tensor '{s.Name}' has shape [{string.Join(", ", entry.Shape)}], config.json implies " +
                    $"[{string.Join(", ", s.FileShape)}]");
            var data = file.ReadFloat32(stored);
            if (NonFinite.IndexOf(data) is var bad and >= 0)
                throw new FileFormatException(path,
                    $"tensor '{stored}' holds {data[bad]} at index {bad}; a model with NaN or infinite weights cannot be used (a " +
                        "diverged " +
                    "run?)");
            var dst = model.Parameters.AsSpan(s.Offset, s.Length);
            if (s.Conv1D) Transpose(data, s.Shape[1], s.Shape[0]).CopyTo(dst);
            else data.CopyTo(dst);
        }
    }

    static void CheckExists(string dir, string path)
    {
        if (File.Exists(path)) return;
        string? parent = Path.GetDirectoryName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar));
        string name = Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar));
        string? orphan = parent is null || !Directory.Exists(parent) ? null
            : Directory.EnumerateDirectories(parent, $".{name}.old-*").FirstOrDefault();
        string hint = orphan is null ? "is this a checkpoint directory (written by Checkpoint.Save)?"
            : $"a save was interrupted; the previous checkpoint is in {orphan}";
        throw new FileNotFoundException($"{path} does not exist; {hint}", path);
    }

    /// <summary>The prefix Hugging Face's own GPT-2 files put before the parameters' names.</summary>
    internal const string HuggingFacePrefix = "transformer.";

    /// <summary>A stored tensor name without <see cref="HuggingFacePrefix"/>: <c>transformer.wte.weight</c> → <c>wte.weight</c>.</summary>
    internal static string PlainName(string stored) =>
        stored.StartsWith(HuggingFacePrefix, StringComparison.Ordinal) ? stored[HuggingFacePrefix.Length..] : stored;

    [System.Text.RegularExpressions.GeneratedRegex(@"^h\.\d+\.attn\.(masked_)?bias$")]
    private static partial System.Text.RegularExpressions.Regex MaskBuffer();

    internal static float[] Transpose(ReadOnlySpan<float> source, int rows, int cols)
    {
        var result = new float[source.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) result[c * rows + r] = source[r * cols + c];
        }
        return result;
    }
}
