using TokenSpace.IO;
using TokenSpace.Tokenization;
using TokenSpace.Training;

namespace TokenSpace.Tests.Tokenization;

public class CharTokenizerTests
{
    [Fact]
    public void Train_Names_SortsCharactersAndPutsBosLast()
    {
        var tok = CharTokenizer.Train("emma\nolivia\r\nava\n");
        Assert.Equal("aeilmov", new string([.. tok.Vocab]));
        Assert.Equal(7, tok.BosId);
        Assert.Equal(8, tok.VocabSize);
        Assert.Equal([1, 4, 4, 0], tok.Encode("emma"));
        Assert.Equal("ave", tok.Decode([7, 0, 6, 1, 7]));
    }

    [Fact]
    public void Train_SharedNames_Has27Tokens()
    {
        var tok = CharTokenizer.Train(File.ReadAllText(TestData.Dataset("names")));
        Assert.Equal(27, tok.VocabSize);
        Assert.Equal(26, tok.BosId);
    }

    [Fact]
    public void Encode_SeveralLines_NamesTheLineAndColumnOfTheUnknownCharacter()
    {
        var tok = CharTokenizer.TrainStream("ab\nc");
        var f = Assert.Throws<FileFormatException>(() => ((ITokenizer)tok).Encode("ab\nba\ncXb", "corpus.txt", 10));
        Assert.Equal(12, f.Line);
        Assert.Contains("'X' (U+0058) at column 2", f.Message);
    }

    [Fact]
    public void Members_SayWhatCallersUsedToLearnByType()
    {
        ITokenizer lines = CharTokenizer.Train("ab\nc"), stream = CharTokenizer.TrainStream("ab\nc");
        Assert.Equal("char", lines.Kind);
        Assert.Equal(3, lines.DocumentSeparator);
        Assert.Equal([3], lines.TextStart);
        Assert.Equal(stream.EncodeToIds("\n"), stream.TextStart);
        Assert.Null(lines.CacheKey);
        Assert.False(lines.CanEncode("a\n"));
        Assert.True(stream.CanEncode("a\n"));
        Assert.Equal(DataMode.Lines, TextData.DefaultMode(lines));
        Assert.Equal(DataMode.Text, TextData.DefaultMode(stream));
    }

    [Fact]
    public void Encode_UnknownCharacter_NamesCharacterAndPlace()
    {
        var tok = CharTokenizer.Train("abc");
        var e = Assert.Throws<ArgumentException>(() => tok.Encode("cab!"));
        Assert.Contains("'!'", e.Message);
        Assert.Contains("column 4", e.Message);
        var f = Assert.Throws<FileFormatException>(() => tok.Encode("aXb", "names.txt", 12));
        Assert.Equal(12, f.Line);
        Assert.StartsWith("names.txt:12:", f.Message);
        Assert.Contains("'X'", f.Message);
    }

    [Fact]
    public void Train_EmptyCorpus_Throws()
    {
        Assert.Throws<ArgumentException>(() => CharTokenizer.Train("\n\r\n"));
        Assert.Throws<ArgumentException>(() => CharTokenizer.TrainStream(""));
    }

    [Fact]
    public void SaveLoad_RoundTripsAndWritesTheIssueFormat()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tok-{Guid.NewGuid():N}.json");
        try
        {
            var tok = CharTokenizer.TrainStream("to be\nor not");
            tok.Save(path);
            Assert.Equal("{\"type\":\"char\",\"vocab\":[\"\\n\",\" \",\"b\",\"e\",\"n\",\"o\",\"r\",\"t\"],\"bos_id\":8}", File.ReadAllText(path).Trim());
            var back = CharTokenizer.Load(path);
            Assert.Equal(tok.Vocab, back.Vocab);
            Assert.Equal(tok.Encode("not to be"), back.Encode("not to be"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("{\"type\":\"bpe\",\"vocab\":[],\"bos_id\":0}", "expected 'char'")]
    [InlineData("{\"type\":\"char\",\"vocab\":[\"ab\"],\"bos_id\":1}", "one character")]
    [InlineData("{\"type\":\"char\",\"vocab\":[\"a\"],\"bos_id\":5}", "bos_id is 5")]
    [InlineData("{\"type\":\"char\",", "not a character tokenizer.json")]
    public void Load_BadFile_ThrowsNamingFileAndCause(string json, string cause)
    {
        string path = Path.Combine(Path.GetTempPath(), $"tok-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, json);
            var e = Assert.Throws<FileFormatException>(() => CharTokenizer.Load(path));
            Assert.Equal(path, e.FilePath);
            Assert.Contains(cause, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EncodeFile_TextOverManyPieces_SameIdsAsEncodeAndLocatedErrors()
    {
        string path = Path.GetTempFileName();
        try
        {
            var text = new System.Text.StringBuilder();
            // Short lines over piece boundaries (every 64 KiB), then one long line over many.
            for (int i = 0; text.Length < 1_200_000; i++) text.Append(i % 7 == 0 ? "naïve 日本 😀\n" : "the quick brown fox ");
            while (text.Length < 2_500_000) text.Append("the quick brown fox ");
            File.WriteAllText(path, text.ToString());
            var tokenizer = CharTokenizer.FromVocab(CharTokenizer.CharactersOf(path));
            Assert.Equal(CharTokenizer.TrainStream(text.ToString()).Vocab, tokenizer.Vocab);
            Assert.Equal(tokenizer.Encode(text.ToString()), tokenizer.EncodeFile(path));

            // A character outside the vocabulary in a line that began in an earlier piece: the line and column of the whole text.
            int at = 2_400_000;
            text[at] = '#';
            File.WriteAllText(path, text.ToString());
            string whole = text.ToString();
            long line = whole[..at].Count(c => c == '\n') + 1;
            int column = at - whole.LastIndexOf('\n', at);
            var e = Assert.Throws<TokenSpace.IO.FileFormatException>(() => tokenizer.EncodeFile(path));
            Assert.Equal(line, e.Line);
            Assert.Contains($"character '#' (U+0023) at column {column} is not in the tokenizer's vocabulary", e.Message);
            Assert.Equal(e.Message, Assert.Throws<TokenSpace.IO.FileFormatException>(() => tokenizer.Encode(whole, path, 1)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
