namespace TokenSpace.Cli;

/// <summary>
/// The library's errors name settings as its API does (<c>TrainOptions.Steps</c>, <c>VectorsLoadOptions.KeysPath</c>);
/// a person at the command line knows them as flags and verbs. Every error passes through here before it is printed.
/// </summary>
static class LibraryTerms
{
    // Phrase in the library's message → what the command line calls it. No phrase contains another.
    internal static readonly (string Library, string Cli)[] Terms =
    [
        ("TrainOptions.Steps", "--steps"),
        ("TrainOptions.BatchSize", "--batch-size"),
        ("TrainOptions.LearningRate", "--lr"),
        ("TrainOptions.MinLearningRate", "--min-lr"),
        ("[0, the learning rate]", "[0, lr]"),
        ("TrainOptions.WarmupSteps", "--warmup"),
        ("TrainOptions.DecaySteps", "--lr-decay-steps"),
        ("TrainOptions.Beta1", "--beta1"),
        ("TrainOptions.Beta2", "--beta2"),
        ("TrainOptions.Eps", "eps"),
        ("TrainOptions.WeightDecay", "--weight-decay"),
        ("TrainOptions.GradClip", "--grad-clip"),
        ("TrainOptions.Mode", "--mode"),
        ("TrainOptions.Schedule", "--schedule"),
        ("TrainOptions.EvalEvery", "--eval-every"),
        ("TrainOptions.EvalTokens", "eval tokens"),
        ("TrainOptions.SnapshotEvery", "--snapshot-every"),
        ("TrainOptions.Context", "the context"),
        ("resume it on the same training data (and validation data)", "pass the same --data (and --val-data)"),
        ("give validation data of their own", "pass --val-data"),
        ("another process (it holds", "another tokenspace process (it holds"),
        ("or choose another directory", "or choose another --out"),
        ("(written with the model by Checkpoint.Save)", "(written by `tokenspace train`)"),
        ("directory (written by Checkpoint.Save)?", "directory written by `tokenspace train`?"),
        ("give a keys file (VectorsLoadOptions.KeysPath)", "pass a keys file with --keys"),
        ("(a keys file, VectorsLoadOptions.KeysPath, names the rows instead)", "(--keys FILE names the rows instead)"),
        ("or give one (VectorsLoadOptions.KeysPath)", "or pass --keys FILE"),
        ("choose a tensor with VectorsLoadOptions.Tensor", "choose a tensor with --tensor NAME"),
        ("choose one with VectorsLoadOptions.Tensor", "choose one with --tensor NAME"),
        ("(read it as VectorFormat.GloVe)", "(use --format glove)"),
        ("fetch it into the data cache first (DataCache.Fetch)", "fetch it first (`tokenspace data fetch`)"),
        ("; name the format (", "; give it with --to ("),
        ("let invalid UTF-8 be replaced (replaceInvalidUtf8)", "pass --replace-invalid-utf8"),
        ("build one (KeyedVectors.BuildIndex) or open one (KeyedVectors.OpenIndex)", "build one with `tokenspace index build`"),
        ("ApproximateIndex.Build", "`tokenspace index build`"),
    ];

    /// <summary><paramref name="message"/> with the library's names of settings replaced by the command line's.</summary>
    public static string ToCli(string message)
    {
        foreach (var (library, cli) in Terms) message = message.Replace(library, cli, StringComparison.Ordinal);
        return message;
    }
}
