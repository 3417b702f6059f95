using System.Text.RegularExpressions;
using TokenSpace.Formats;

namespace TokenSpace.Tests;

/// <summary>
/// The library's layers, checked on its source: every folder of <c>src/TokenSpace/</c> is a namespace, and a
/// reference is a <c>using TokenSpace.X</c> or a qualified <c>TokenSpace.X.</c> in a file of another folder.
/// (A partly qualified name such as <c>Formats.Checkpoint</c> is not seen; the usings and full names are.)
/// </summary>
public partial class ArchitectureTests
{
    /// <summary>Arrows that must not exist even without a cycle: (from, to), <c>*</c> meaning any other folder.</summary>
    static readonly (string From, string To, string Why)[] Forbidden =
    [
        ("Tensors", "*", "Tensors is the kernels' floor and knows nothing of ours"),
        ("IO", "*", "IO is the file plumbing under everything and uses only the BCL"),
        ("Vectors", "Model", "KeyedVectors is any embedding matrix, not a GPT's"),
        ("Vectors", "Training", "KeyedVectors is any embedding matrix, not a training run's"),
        ("Embeddings", "Training", "the layers are usable alone, without a trainer"),
    ];

    [Fact]
    public void Library_Source_HasNoCycleAndNoForbiddenArrow()
    {
        var violations = Violations(LibrarySources());
        Assert.True(violations.Count == 0, "the layers are broken:\n" + string.Join("\n", violations));
    }

    /// <summary>
    /// The library's messages name settings as its API does (TrainOptions.Steps); the CLI turns them into flags
    /// (TokenSpace.Cli.LibraryTerms). The data cache is the one exception: the commands that fill it are its remedy.
    /// </summary>
    [Fact]
    public void Library_Strings_NameNoCommandLineFlagOrVerb()
    {
        var found = LibrarySources()
            .Where(f => f.Path.Replace('\\', '/') != "IO/DataCache.cs")
            .SelectMany(f => CommentOrString().Matches(f.Text).Select(m => m.Value)
                .Where(v => v.StartsWith('"') || v.StartsWith('$') || v.StartsWith('@'))
                .Where(v => CliWords().IsMatch(v))
                .Select(v => $"{f.Path}: {v}"))
            .ToList();
        Assert.True(found.Count == 0, "library strings that speak CLI:\n" + string.Join("\n", found));
    }

    static IEnumerable<(string Path, string Text)> LibrarySources()
    {
        string root = Path.Combine(TestData.RepoRoot, "src", "TokenSpace");
        return Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(root, f), File.ReadAllText(f)));
    }

    [Fact]
    public void Violations_PlantedBadReferences_AreReported()
    {
        // The checker on a miniature library: each planted reference must come back as a violation.
        (string, string)[] files =
        [
            ("Tensors/Gemm.cs", "using TokenSpace.Model;\nnamespace TokenSpace.Tensors;"),
            ("IO/AtomicFile.cs", "namespace TokenSpace.IO;\nclass A { TokenSpace.Formats.Checkpoint? c; }"),
            ("Vectors/KeyedVectors.cs", "using TokenSpace.Training;\nnamespace TokenSpace.Vectors;"),
            ("Embeddings/TokenEmbedding.cs", "using TokenSpace.Training;\nnamespace TokenSpace.Embeddings;"),
            ("Formats/VectorsFile.cs", "using TokenSpace.Cli;\nnamespace TokenSpace.Formats;"),
            ("Training/Trainer.cs", "using TokenSpace.Formats;\nnamespace TokenSpace.Training;"),
            ("Formats/Checkpoint.cs", "namespace TokenSpace.Formats;\n/// <see cref=\"TokenSpace.Training.Trainer\"/>\nclass C { }"),
            ("Model/Gpt.cs", "namespace TokenSpace.Tensors;"),
            ("Plotting/Svg.cs", "// using TokenSpace.Training; is a comment, not a reference\nnamespace TokenSpace.Plotting;"),
        ];

        var found = Violations(files);

        Assert.Contains("Tensors → Model (Tensors/Gemm.cs): Tensors is the kernels' floor and knows nothing of ours", found);
        Assert.Contains("IO → Formats (IO/AtomicFile.cs): IO is the file plumbing under everything and uses only the BCL", found);
        Assert.Contains("Vectors → Training (Vectors/KeyedVectors.cs): KeyedVectors is any embedding matrix, not a training run's", found);
        Assert.Contains("Embeddings → Training (Embeddings/TokenEmbedding.cs): the layers are usable alone, without a trainer", found);
        Assert.Contains("Formats → Cli (Formats/VectorsFile.cs): the library must not use a host (TokenSpace.Cli)", found);
        Assert.Contains("cycle Formats → Training → Formats", found);
        Assert.Contains("Model/Gpt.cs declares namespace TokenSpace.Tensors; a folder is its namespace", found);
        Assert.DoesNotContain(found, v => v.StartsWith("Plotting", StringComparison.Ordinal));
        Assert.Equal(7, found.Count);
    }

    /// <summary>Every broken rule in <paramref name="files"/> (path relative to <c>src/TokenSpace/</c>, text), one line each.</summary>
    static List<string> Violations(IEnumerable<(string Path, string Text)> files)
    {
        var violations = new List<string>();
        var arrows = new SortedDictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal); // from → to → first file
        var folders = new SortedSet<string>(StringComparer.Ordinal);
        var sources = files.ToList();
        foreach (var (path, _) in sources) folders.Add(Folder(path));
        foreach (var (path, text) in sources)
        {
            string from = Folder(path);
            // Comments and string literals are no references; a cref in a doc comment is.
            var crefs = Cref().Matches(text).Select(m => m.Groups[1].Value);
            string code = CommentOrString().Replace(text, m => m.Value.StartsWith('/') ? "" : "\"\"");
            var ns = Namespace().Match(code);
            if (ns.Success && ns.Groups[1].Value != $"TokenSpace.{from}")
                violations.Add($"{path.Replace('\\', '/')} declares namespace {ns.Groups[1].Value}; a folder is its namespace");
            code = Namespace().Replace(code, "");
            foreach (string to in Reference().Matches(code).Select(m => m.Groups[1].Value).Concat(crefs))
            {
                if (to == from) continue;
                var targets = arrows.TryGetValue(from, out var t) ? t : arrows[from] = new(StringComparer.Ordinal);
                targets.TryAdd(to, path.Replace('\\', '/'));
            }
        }
        foreach (var (from, targets) in arrows)
        {
            foreach (var (to, path) in targets)
            {
                if (!folders.Contains(to))
                    violations.Add($"{from} → {to} ({path}): the library must not use a host (TokenSpace.{to})");
                foreach (var rule in Forbidden.Where(r => r.From == from && (r.To == "*" || r.To == to)))
                    violations.Add($"{from} → {to} ({path}): {rule.Why}");
            }
        }
        violations.AddRange(Cycles(arrows));
        return violations;
    }

    static string Folder(string path)
    {
        string dir = Path.GetDirectoryName(path) ?? "";
        return dir.Split(Path.DirectorySeparatorChar, '/')[0];
    }

    /// <summary>One line per strongly connected group of folders (Tarjan's algorithm), each shown as one cycle through it.</summary>
    static IEnumerable<string> Cycles(SortedDictionary<string, SortedDictionary<string, string>> arrows)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var groups = new List<List<string>>();
        IEnumerable<string> Next(string v) => arrows.TryGetValue(v, out var t) ? t.Keys : [];

        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            foreach (string w in Next(v))
            {
                if (!index.TryGetValue(w, out int seen))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (stack.Contains(w))
                {
                    low[v] = Math.Min(low[v], seen);
                }
            }
            if (low[v] != index[v]) return;
            var group = new List<string>();
            string u;
            do group.Add(u = stack.Pop()); while (u != v);
            if (group.Count > 1) groups.Add(group);
        }

        foreach (string v in arrows.Keys) if (!index.ContainsKey(v)) Visit(v);
        foreach (var group in groups)
        {
            // Walk from the group's first folder inside the group until a folder repeats.
            string start = group.Min(StringComparer.Ordinal)!;
            var path = new List<string> { start };
            string at = start;
            do
            {
                at = Next(at).First(group.Contains);
                path.Add(at);
            }
            while (path.IndexOf(at) == path.Count - 1);
            yield return "cycle " + string.Join(" → ", path.Skip(path.IndexOf(at)));
        }
    }

    [GeneratedRegex(@"//[^\n]*|""""""[\s\S]*?""""""|@""(?:[^""]|"""")*""|""(?:[^""\\\n]|\\.)*""|'(?:[^'\\\n]|\\.)+'")]
    private static partial Regex CommentOrString();

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z-]+|`tokenspace ")]
    private static partial Regex CliWords();

    [GeneratedRegex(@"cref=""(?:[A-Z]:)?TokenSpace\.([A-Z]\w*)")]
    private static partial Regex Cref();

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex Namespace();

    [GeneratedRegex(@"(?<![\w.])TokenSpace\.([A-Z]\w*)")]
    private static partial Regex Reference();
}
