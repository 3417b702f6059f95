using System.CommandLine;
using System.Text;
using Spectre.Console;

namespace TokenSpace.Cli.Commands;

/// <summary><c>tokenspace tokenize</c>: the ids (and with <c>--tokens</c> the tokens and offsets) of a text or file.</summary>
static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = TokenizerOption.Create();
        var file = new Option<FileInfo>("--file") { Description = "Tokenize this UTF-8 file" };
        var text = new Option<string>("--text") { Description = "Tokenize this text" };
        var withTokens = new Option<bool>("--tokens") { Description = "Also show each token's text and character offsets" };
        var command = new Command("tokenize", "Turn text into token ids") { tokenizer, file, text, withTokens };
        command.SetAction(parse => CliOptions.Run(parse, () =>
        {
            var path = parse.GetValue(file);
            string? literal = parse.GetValue(text);
            if ((path is null) == (literal is null)) throw new ArgumentException("give exactly one of --file FILE or --text TEXT");
            string spec = parse.GetValue(tokenizer)!;
            // A character vocabulary is the text's own characters, so char needs the whole text first.
            if (spec == "char" && path is not null) literal = File.ReadAllText(path.FullName, Encoding.UTF8);
            var encoder = TokenizerOption.Resolve(spec, literal);
            bool json = parse.GetValue(CliOptions.Json);

            if (parse.GetValue(withTokens))
            {
                var tokens = encoder.EncodeToTokens(literal ?? File.ReadAllText(path!.FullName, Encoding.UTF8));
                if (json)
                {
                    CliOptions.WriteJson(new
                    {
                        ids = tokens.Select(t => t.Id),
                        tokens = tokens.Select(t => new { id = t.Id, token = t.Value, start = t.Start, length = t.Length }),
                    });
                    return 0;
                }
                var table = new Table().AddColumns("id", "token", "start", "length");
                foreach (var t in tokens)
                {
                    table.AddRow(t.Id.ToString(), Markup.Escape(Visible(t.Value)), t.Start.ToString(), t.Length.ToString());
                }
                AnsiConsole.Write(table);
                return 0;
            }

            var ids = new List<int>();
            if (literal is not null) ids.AddRange(encoder.EncodeToIds(literal));
            else
            {
                using var reader = new StreamReader(path!.FullName, Encoding.UTF8);
                encoder.Encode(reader, chunk => ids.AddRange(chunk));
            }
            if (json) CliOptions.WriteJson(new { ids });
            else Console.WriteLine(string.Join(' ', ids));
            return 0;
        }));
        return command;
    }

    /// <summary>Shows whitespace and control characters in a table cell.</summary>
    static string Visible(string token) =>
        "\"" + token.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t") + "\"";
}
