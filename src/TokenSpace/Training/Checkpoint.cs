using System.Text.Json;
using System.Text.Json.Nodes;
using TokenSpace.Formats;
using TokenSpace.Model;
using TokenSpace.Tensors;
using TokenSpace.Tokenization;

namespace TokenSpace.Training;

/// <summary>What <c>--resume</c> needs beyond the model: the optimizer's moments, the step, the Rng and the run's options.</summary>
/// <param name="DataHash">A hash of the training tokens, so a resume on different data is refused.</param>
public sealed record TrainingState(int Step, ulong[] RngState, TrainOptions Options, float[] M, float[] V, string DataHash);

/// <summary>
/// A checkpoint directory:
/// <list type="bullet">
/// <item><c>model.safetensors</c>: every parameter under its Hugging Face GPT-2 name, Linear weights in
/// Conv1D (in, out) layout (c_attn columns q | k | v), lm_head.weight (V, C) only when untied, and no tensor
/// the architecture lacks (RMSNorm has no weights; no biases without <c>bias</c>).</item>
/// <item><c>config.json</c>: HF GPT-2 keys plus <c>norm</c>, <c>bias</c>, <c>embedding_norm</c>, <c>final_norm</c>.</item>
/// <item><c>tokenizer.json</c>: the tokenizer (for GPT-2's BPE with <c>vocab.json</c> + <c>merges.txt</c>, see <see cref="CheckpointTokenizer"/>).</item>
/// <item>for <c>--resume</c>: <c>optimizer.safetensors</c> (tensors <c>m</c>, <c>v</c> over the flat parameter
/// buffer) and <c>trainer.json</c> (step, Rng state, options, data hash).</item>
/// </list>
/// A save replaces these files as one set (<see cref="AtomicDirectory"/>): a crash at any point leaves the old or the
/// new checkpoint once <see cref="Recover(string)"/> has run, and the directory itself, with <c>.lock</c> and <c>snapshots/</c>,
/// never moves.
/// </summary>
public static partial class Checkpoint
{
    public const string ModelFile = "model.safetensors";
    public const string ConfigFile = "config.json";
    public const string TokenizerFile = "tokenizer.json";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer.json";

    /// <summary>The folder of wte/wpe snapshots inside a run's directory.</summary>
    public const string SnapshotsDir = "snapshots";

    static readonly string[] Files = [ModelFile, ConfigFile, TokenizerFile, CheckpointTokenizer.VocabFile, CheckpointTokenizer.MergesFile, OptimizerFile, StateFile];

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>
    /// Saves <paramref name="model"/>, its tokenizer and (when given) the training state into <paramref name="dir"/>,
    /// atomically (<see cref="AtomicDirectory"/>, which first finishes or clears what an interrupted save left inside).
    /// The caller holds the directory's <see cref="CheckpointLock"/> (a training run does, for its whole length).
    /// </summary>
    public static void Save(string dir, Gpt model, ITokenizer tokenizer, TrainingState? state = null)
    {
        AtomicDirectory.Write(dir, Files, temp =>
        {
            WriteModel(Path.Combine(temp, ModelFile), model);
            AtomicFile.WriteAllText(Path.Combine(temp, ConfigFile), ConfigJson(model.Config).ToJsonString(Json) + "\n");
            CheckpointTokenizer.Save(temp, tokenizer);
            if (state is null) return;
            SafetensorsFile.Write(Path.Combine(temp, OptimizerFile), [("m", [state.M.Length], state.M), ("v", [state.V.Length], state.V)]);
            var json = new JsonObject
            {
                ["step"] = state.Step,
                ["rng_state"] = new JsonArray([.. state.RngState.Select(w => JsonValue.Create(w.ToString(System.Globalization.CultureInfo.InvariantCulture)))]),
                ["data_hash"] = state.DataHash,
                ["options"] = JsonSerializer.SerializeToNode(state.Options, Json),
            };
            AtomicFile.WriteAllText(Path.Combine(temp, StateFile), json.ToJsonString(Json) + "\n");
        });
    }

    /// <summary>
    /// Finishes or clears what an interrupted save left in (or, from saves before this layout, beside) <paramref name="dir"/>:
    /// a commit half done is completed, unfinished temporaries are deleted, and an older save's hidden
    /// <c>.NAME.old-*</c> copy gives back the checkpoint and <c>snapshots/</c> it held. Takes the directory's lock when
    /// free; when another process holds it (a run writing there), does nothing. <see cref="Load"/>, <see cref="LoadState"/>
    /// and <see cref="ReadTrainOptions"/> call it, so <c>sample</c>, <c>evaluate</c> and <c>--resume</c> recover by themselves.
    /// </summary>
    public static void Recover(string dir)
    {
        var (full, legacy) = Leftovers(dir);
        bool snapshotLeftovers = Directory.Exists(Path.Combine(full, SnapshotsDir)) && Directory.EnumerateFiles(Path.Combine(full, SnapshotsDir), ".*.tmp").Any();
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
        foreach (string old in legacy.Where(d => Path.GetFileName(d).StartsWith($".{Path.GetFileName(full)}.old-", StringComparison.Ordinal)))
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

    /// <summary>The full path of <paramref name="dir"/> and the folders earlier saves, which swapped whole directories, left beside it.</summary>
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
    };

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
            var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new FileFormatException(path, "config.json is not a JSON object");
            int Int(string key) => root[key]?.GetValue<int>() ?? throw new FileFormatException(path, $"missing \"{key}\"");
            bool Bool(string key, bool fallback) => root[key]?.GetValue<bool>() ?? fallback;
            string activation = root["activation_function"]?.GetValue<string>() ?? "gelu_new";
            string norm = root["norm"]?.GetValue<string>() ?? "layernorm";
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
                    _ => throw new FileFormatException(path, $"activation_function \"{activation}\" is not supported; expected gelu_new or relu"),
                },
                Norm = norm switch
                {
                    "layernorm" => NormKind.LayerNorm,
                    "rmsnorm" => NormKind.RmsNorm,
                    _ => throw new FileFormatException(path, $"norm \"{norm}\" is not supported; expected layernorm or rmsnorm"),
                },
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
    /// <exception cref="FileFormatException">A file is missing, truncated, or does not match config.json (names the tensor and both shapes).</exception>
    public static (Gpt Model, ITokenizer Tokenizer) Load(string dir, int maxBatch = 1, int maxT = 0, bool forTraining = false)
    {
        var config = ReadConfig(dir);
        if (!forTraining) config = config with { Dropout = 0 };
        string tokPath = Path.Combine(dir, TokenizerFile);
        if (!File.Exists(Path.Combine(dir, CheckpointTokenizer.VocabFile))) CheckExists(dir, tokPath);
        var tokenizer = CheckpointTokenizer.Load(dir);
        if (tokenizer.VocabSize != config.VocabSize)
            throw new FileFormatException(tokPath, $"the tokenizer has {tokenizer.VocabSize} tokens but config.json says vocab_size {config.VocabSize}");
        string modelPath = Path.Combine(dir, ModelFile);
        CheckExists(dir, modelPath);
        // Two bytes per parameter at the least (F16/BF16): a config that lies is caught before the model is allocated.
        long modelBytes = new FileInfo(modelPath).Length;
        if (2 * config.CoreParameters > modelBytes)
        {
            throw new FileFormatException(Path.Combine(dir, ConfigFile),
                $"config.json describes at least {config.CoreParameters:G4} parameters, more than the {modelBytes} bytes of {ModelFile} hold; is this the checkpoint's own config?");
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
            string plain = name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name;
            // Hugging Face may store the tied lm_head.weight as well; wte is the one that counts.
            if (MaskBuffer().IsMatch(plain) || (plain == "lm_head.weight" && model.Config.TiedLmHead)) continue;
            if (!allowExtra && !model.Slices.Any(s => s.Name == plain))
                throw new FileFormatException(path, $"tensor '{name}' is not part of the architecture config.json describes; is this the checkpoint's own config?");
            entries[plain] = name;
        }
        foreach (var s in model.Slices)
        {
            if (!entries.TryGetValue(s.Name, out var stored) || !file.Entries.TryGetValue(stored, out var entry))
                throw new FileFormatException(path, $"tensor '{s.Name}' [{string.Join(", ", s.FileShape)}] is missing; config.json and the weights disagree");
            if (!entry.Shape.SequenceEqual(s.FileShape))
                throw new FileFormatException(path, $"tensor '{s.Name}' has shape [{string.Join(", ", entry.Shape)}], config.json implies [{string.Join(", ", s.FileShape)}]");
            var data = file.ReadFloat32(stored);
            if (NonFinite.IndexOf(data) is var bad and >= 0)
                throw new FileFormatException(path, $"tensor '{stored}' holds {data[bad]} at index {bad}; a model with NaN or infinite weights cannot be used (a diverged run?)");
            var dst = model.Parameters.AsSpan(s.Offset, s.Length);
            if (s.Conv1D) Transpose(data, s.Shape[1], s.Shape[0]).CopyTo(dst);
            else data.CopyTo(dst);
        }
    }

    /// <summary>Reads the training state saved beside a model, for <c>--resume</c>.</summary>
    /// <exception cref="FileFormatException">The directory has no training state, or it does not fit the model.</exception>
    public static TrainingState LoadState(string dir, Gpt model)
    {
        Recover(dir);
        string statePath = Path.Combine(dir, StateFile), optPath = Path.Combine(dir, OptimizerFile);
        if (!File.Exists(statePath) || !File.Exists(optPath))
            throw new FileFormatException(dir, $"no training state ({StateFile}, {OptimizerFile}) to resume from; was it saved by `train`?");
        TrainingState state;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(statePath))!.AsObject();
            var rng = root["rng_state"]!.AsArray().Select(w => ulong.Parse(w!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var options = root["options"].Deserialize<TrainOptions>(Json) ?? throw new FileFormatException(statePath, "missing \"options\"");
            if (rng.Length != 4 || rng.All(w => w == 0)) throw new FileFormatException(statePath, "\"rng_state\" must be four 64-bit words, not all zero; the file is damaged");
            var opt = SafetensorsFile.Open(optPath);
            state = new TrainingState(root["step"]!.GetValue<int>(), rng, options, opt.ReadFloat32("m"), opt.ReadFloat32("v"), root["data_hash"]!.GetValue<string>());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or KeyNotFoundException or FormatException and not FileFormatException)
        {
            throw new FileFormatException(statePath, $"unreadable training state: {e.Message}", inner: e);
        }
        if (state.M.Length != model.Parameters.Length || state.V.Length != model.Parameters.Length)
            throw new FileFormatException(optPath, $"optimizer moments hold {state.M.Length} values but the model has {model.Parameters.Length} parameters");
        // Checked like CLI input: a hand-edited or damaged file must not start a run that fails deep inside.
        state.Options.Validate(statePath);
        if (state.Step < 0) throw new FileFormatException(statePath, $"\"step\" must not be negative, got {state.Step}; was the file edited?");
        foreach (var (name, values) in new[] { ("m", state.M), ("v", state.V) })
        {
            int bad = NonFinite.IndexOf(values);
            if (bad < 0 && name == "v") bad = Array.FindIndex(values, x => x < 0);
            if (bad >= 0)
                throw new FileFormatException(optPath, $"tensor '{name}' holds {values[bad]} at index {bad}; Adam's moments are finite (and v is never negative)");
        }
        return state;
    }

    /// <summary>The options of the run saved in <paramref name="dir"/>, or null when it holds no training state.</summary>
    /// <exception cref="FileFormatException">trainer.json exists but cannot be read.</exception>
    public static TrainOptions? ReadTrainOptions(string dir)
    {
        Recover(dir);
        string path = Path.Combine(dir, StateFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?["options"].Deserialize<TrainOptions>(Json)
                ?? throw new FileFormatException(path, "missing \"options\"");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new FileFormatException(path, $"unreadable training state: {e.Message}", inner: e);
        }
    }

    static void CheckExists(string dir, string path)
    {
        if (File.Exists(path)) return;
        string? parent = Path.GetDirectoryName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar));
        string name = Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar));
        string? orphan = parent is null || !Directory.Exists(parent) ? null : Directory.EnumerateDirectories(parent, $".{name}.old-*").FirstOrDefault();
        string hint = orphan is null ? "is this a checkpoint directory written by `tokenspace train`?" : $"a save was interrupted; the previous checkpoint is in {orphan}";
        throw new FileNotFoundException($"{path} does not exist; {hint}", path);
    }

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
