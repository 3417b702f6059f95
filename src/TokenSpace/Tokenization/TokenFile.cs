using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TokenSpace.IO;

namespace TokenSpace.Tokenization;

/// <summary>
/// A corpus tokenised once and kept as raw little-endian uint16 ids (nanoGPT's <c>prepare.py</c>
/// <c>train.bin</c> layout), read back memory-mapped. Files live in <c>&lt;cache&gt;/tokens/</c>, named by
/// the sha256 of the corpus bytes and the tokenizer, so a changed corpus or another tokenizer gets its own file.
/// </summary>
/// <example>
/// <code>
/// string path = TokenFile.Prepare(Gpt2BpeTokenizer.Create(), "gpt2", "input.txt");
/// using var tokens = TokenFile.Open(path);
/// var window = new int[257];
/// tokens.Read(1000, window); // ids 1000..1256
/// </code>
/// </example>
public sealed class TokenFile : IDisposable
{
    readonly MappedFile? file;
    bool disposed;

    TokenFile(string path, long count, MappedFile? file)
    {
        Path = path;
        Count = count;
        this.file = file;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>Number of tokens.</summary>
    public long Count { get; }

    /// <summary>The id at <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, Count).</exception>
    public int this[long index]
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return BinaryPrimitives.ReadUInt16LittleEndian(file!.Span(2 * index, 2));
        }
    }

    /// <summary>Copies ids [start, start + destination.Length) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie inside [0, Count).</exception>
    public void Read(long start, Span<int> destination)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + destination.Length, Count, nameof(destination));
        if (destination.IsEmpty) return;
        var bytes = file!.Span(2 * start, 2 * destination.Length);
        for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]);
    }

    /// <summary>
    /// Tokenises <paramref name="corpusPath"/> (UTF-8) with <paramref name="tokenizer"/> into
    /// <c>&lt;cacheRoot&gt;/tokens/&lt;sha256&gt;.&lt;tokenizerName&gt;.u16</c> unless that file exists; returns its path.
    /// The file is written to a temporary name and renamed, so it is either complete or absent.
    /// </summary>
    /// <param name="tokenizer">Any tokenizer with at most 65,536 ids.</param>
    /// <param name="tokenizerName">Identifies the tokenizer and its vocabulary in the file name (letters, digits, '-', '_', '.').</param>
    /// <param name="corpusPath">The text.</param>
    /// <param name="cacheRoot">Default <see cref="DataCache.Root"/>.</param>
    /// <exception cref="ArgumentException">The vocabulary does not fit uint16, or the name has other characters.</exception>
    public static string Prepare(ITokenizer tokenizer, string tokenizerName, string corpusPath, string? cacheRoot = null)
    {
        if (tokenizer.VocabSize > ushort.MaxValue + 1)
        {
            throw new ArgumentException($"a vocabulary of {tokenizer.VocabSize} ids does not fit uint16 token files (at most 65536)",
                nameof(tokenizer));
        }
        if (tokenizerName.Length == 0 || !tokenizerName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"tokenizer name '{tokenizerName}' must be letters, digits, '-', '_' or '.'",
                nameof(tokenizerName));
        }

        string hash;
        using (var corpus = File.OpenRead(corpusPath)) hash = Convert.ToHexStringLower(SHA256.HashData(corpus));
        string dir = System.IO.Path.Combine(cacheRoot ?? DataCache.Root, "tokens");
        string path = System.IO.Path.Combine(dir, $"{hash}.{tokenizerName}.u16");
        if (File.Exists(path)) return path;

        AtomicFile.Write(path, output =>
        {
            using var reader = new StreamReader(corpusPath, Encoding.UTF8);
            byte[] buffer = new byte[1 << 16];
            tokenizer.Encode(reader, ids =>
            {
                for (int start = 0; start < ids.Length; start += buffer.Length / 2)
                {
                    var slice = ids.Slice(start, Math.Min(buffer.Length / 2, ids.Length - start));
                    for (int i = 0; i < slice.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2 * i), (ushort)slice[i]);
                    output.Write(buffer, 0, 2 * slice.Length);
                }
            });
        });
        return path;
    }

    /// <summary>Opens a token file, memory-mapped and read-only.</summary>
    /// <exception cref="FileFormatException">The file is missing or its length is odd (not uint16 ids).</exception>
    public static TokenFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileFormatException(path, "the token file does not exist; create it with TokenFile.Prepare");
        long length = new FileInfo(path).Length;
        if (length % 2 != 0)
        {
            throw new FileFormatException(path, $"length {length} is odd; expected little-endian uint16 token ids (2 bytes each)",
                byteOffset: length - 1);
        }
        return new TokenFile(path, length / 2, length == 0 ? null : new MappedFile(path));
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        disposed = true;
        file?.Dispose();
    }
}
