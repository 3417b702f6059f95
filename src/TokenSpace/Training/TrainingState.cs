using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenSpace.Formats;
using TokenSpace.IO;
using TokenSpace.Model;
using TokenSpace.Tensors;

namespace TokenSpace.Training;

/// <summary>
/// What resuming a run needs beyond the model: the optimizer's moments, the step, the Rng and the run's options,
/// kept in a checkpoint directory as <see cref="Checkpoint.OptimizerFile"/> and <see cref="Checkpoint.StateFile"/>.
/// </summary>
/// <param name="DataHash">A hash of the training tokens, so a resume on different data is refused.</param>
public sealed record TrainingState(int Step, ulong[] RngState, TrainOptions Options, float[] M, float[] V, string DataHash)
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Writes the state's two files into <paramref name="dir"/> (pass it to <see cref="Checkpoint.Save"/>).</summary>
    public void WriteInto(string dir)
    {
        SafetensorsFile.Write(Path.Combine(dir, Checkpoint.OptimizerFile), [("m", [M.Length], M), ("v", [V.Length], V)]);
        var json = new JsonObject
        {
            ["step"] = Step,
            ["rng_state"] = new JsonArray([.. RngState.Select(w => JsonValue.Create(w.ToString(CultureInfo.InvariantCulture)))]),
            ["data_hash"] = DataHash,
            ["options"] = JsonSerializer.SerializeToNode(Options, Json),
        };
        AtomicFile.WriteAllText(Path.Combine(dir, Checkpoint.StateFile), json.ToJsonString(Json) + "\n");
    }

    /// <summary>Reads the training state saved beside a model, to resume its run.</summary>
    /// <exception cref="FileFormatException">The directory has no training state, or it does not fit the model.</exception>
    public static TrainingState Load(string dir, Gpt model)
    {
        Checkpoint.Recover(dir);
        string statePath = Path.Combine(dir, Checkpoint.StateFile), optPath = Path.Combine(dir, Checkpoint.OptimizerFile);
        if (!File.Exists(statePath) || !File.Exists(optPath))
            throw new FileFormatException(dir,
                $"no training state ({Checkpoint.StateFile}, {Checkpoint.OptimizerFile}) to resume from; was it saved by `train`?");
        TrainingState state;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(statePath))!.AsObject();
            var rng = root["rng_state"]!.AsArray().Select(w => ulong.Parse(w!.GetValue<string>(), CultureInfo.InvariantCulture)).ToArray();
            var options = root["options"].Deserialize<TrainOptions>(Json)
                ?? throw new FileFormatException(statePath, "missing \"options\"");
            if (rng.Length != 4 || rng.All(w => w == 0))
                throw new FileFormatException(statePath, "\"rng_state\" must be four 64-bit words, not all zero; the file is damaged");
            var opt = SafetensorsFile.Open(optPath);
            state = new TrainingState(root["step"]!.GetValue<int>(), rng, options, opt.ReadFloat32("m"), opt.ReadFloat32("v"),
                root["data_hash"]!.GetValue<string>());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or KeyNotFoundException
            or FormatException and not FileFormatException)
        {
            throw new FileFormatException(statePath, $"unreadable training state: {e.Message}", inner: e);
        }
        if (state.M.Length != model.Parameters.Length || state.V.Length != model.Parameters.Length)
            throw new FileFormatException(optPath,
                $"optimizer moments hold {state.M.Length} values but the model has {model.Parameters.Length} parameters");
        // Checked like CLI input: a hand-edited or damaged file must not start a run that fails deep inside.
        state.Options.Validate(statePath);
        if (state.Step < 0) throw new FileFormatException(statePath,
            $"\"step\" must not be negative, got {state.Step}; was the file edited?");
        foreach (var (name, values) in new[] { ("m", state.M), ("v", state.V) })
        {
            int bad = NonFinite.IndexOf(values);
            if (bad < 0 && name == "v") bad = Array.FindIndex(values, x => x < 0);
            if (bad >= 0)
                throw new FileFormatException(optPath,
                    $"tensor '{name}' holds {values[bad]} at index {bad}; Adam's moments are finite (and v is never negative)");
        }
        return state;
    }

    /// <summary>The options of the run saved in <paramref name="dir"/>, or null when it holds no training state.</summary>
    /// <exception cref="FileFormatException">trainer.json exists but cannot be read.</exception>
    public static TrainOptions? ReadOptions(string dir)
    {
        Checkpoint.Recover(dir);
        string path = Path.Combine(dir, Checkpoint.StateFile);
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
}
