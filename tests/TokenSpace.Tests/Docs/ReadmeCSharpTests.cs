using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace TokenSpace.Tests.Docs;

/// <summary>
/// The README's C# quick start (its one <c>```csharp</c> block) compiles as a console program with the
/// SDK's implicit usings against this build of the library, and runs: GloVe neighbours, a tiny
/// training run, the learned wte's neighbours. Process-wide: it swaps <c>Console.Out</c>.
/// </summary>
[Collection(ProcessWideState.Name)]
public sealed class ReadmeCSharpTests
{
    // What `dotnet new console` (ImplicitUsings) puts in scope.
    const string ImplicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; "
        + "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    [Fact]
    public void QuickStart_CompilesAndRuns()
    {
        TestData.Pretrained("glove-100d");
        string readme = File.ReadAllText(Path.Combine(TestData.RepoRoot, "README.md"));
        var block = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "README.md has no ```csharp block");

        string[] tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = tpa.Append(typeof(TokenSpace.Vectors.KeyedVectors).Assembly.Location).Distinct().Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("ReadmeQuickStart",
            [CSharpSyntaxTree.ParseText(block.Groups[1].Value, path: "README.md", cancellationToken: TestContext.Current.CancellationToken),
             CSharpSyntaxTree.ParseText(ImplicitUsings, cancellationToken: TestContext.Current.CancellationToken)],
            references, new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image, cancellationToken: TestContext.Current.CancellationToken);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();
        Assert.True(emitted.Success && problems.Count == 0, string.Join("\n", problems));

        var entry = Assembly.Load(image.ToArray()).EntryPoint!;
        var saved = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
        }
        finally
        {
            Console.SetOut(saved);
        }
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("toad ", lines[0]); // GloVe 6B 100d's nearest word to "frog"
        Assert.Matches(@"^validation loss \d+\.\d{3}$", lines[3]);
        Assert.Equal(3, lines[4].Split(' ').Length);
    }
}
