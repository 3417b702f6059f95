using System.Buffers.Binary;
using TokenSpace.IO;
using TokenSpace.Tensors;
using TokenSpace.Vectors;

namespace TokenSpace.Formats;

/// <summary>
/// fastText's model file (<c>.bin</c>, Facebook's binary format, versions 11 and 12), all little-endian:
/// <code>
/// offset  size  field
///      0     4  magic 793712314 (bytes BA 16 4F 2F)
///      4     4  version (12)
///      8    48  args: dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate (int32 each)
///     56     8  args: t (double)
///     64    12  dictionary: size, nwords, nlabels (int32)
///     76    16  ntokens, pruneidx_size (int64; −1 = not pruned)
///     92     …  size entries: the word in UTF-8, NUL, count (int64), type (int8: 0 word, 1 label)
///              pruneidx_size pairs (bucket, row) of int32
///              quant_input (1 byte: 1 = product-quantized, refused), m, n (int64), m × n float32: the input matrix,
///              nwords word rows, then one row per bucket; the output matrix follows (not read)
/// </code>
/// The keys are the nwords words (labels of a supervised model are left out). A word's vector is its
/// row plus its n-gram rows, divided by their number (summed in double) (fastText's <c>getWordVector</c>; <c>&lt;/s&gt;</c> has its
/// row alone); the n-gram rows stay mapped and answer for words outside the vocabulary (<see cref="SubwordVectors"/>).
/// </summary>
static class FastTextBinary
{
    /// <summary>The first four bytes of every fastText model (the magic 793712314, little-endian).</summary>
    public static ReadOnlySpan<byte> Magic => [0xBA, 0x16, 0x4F, 0x2F];

    const int DictionaryOffset = 64;
    const int EntriesOffset = 92;

    /// <summary>A word's NUL-terminated text, 8-byte count and type byte: no entry is shorter.</summary>
    const int MinEntryBytes = 10;

    /// <summary>Words longer than this mean a damaged dictionary.</summary>
    const int MaxWordBytes = 1 << 16;

    const string EndOfSentence = "</s>";

    /// <summary>Reads the model in <paramref name="file"/>; on success the returned vectors own the mapping
    /// (<paramref name="keepMapped"/>).</summary>
    /// <exception cref="FileFormatException">A defect of the header, the dictionary or the matrix, a quantized model, a NaN or
    /// infinity.</exception>
    public static KeyedVectors Read(MappedFile file, VectorsLoadOptions options, out bool keepMapped)
    {
        keepMapped = false;
        if (file.Length < EntriesOffset) throw Bad(file,
            $"the file is {file.Length} bytes, shorter than fastText's {EntriesOffset}-byte header; truncated?", file.Length);
        var h = file.Span(0, EntriesOffset);
        if (!h.StartsWith(Magic)) throw Bad(file, "expected fastText's magic number 793712314", 0);
        int version = Int32(h, 4);
        if (version is not (11 or 12)) throw Bad(file, $"fastText format version {version}; this reader knows versions 11 and 12", 4);
        int dim = Int32(h, 8), bucket = Int32(h, 40), minn = Int32(h, 44), maxn = Int32(h, 48);
        if (dim < 1) throw Bad(file, $"dim is {dim}; expected at least 1", 8);
        if (bucket < 0 || minn < 0 || maxn < 0) throw Bad(file, $"bucket {bucket}, minn {minn}, maxn {maxn}: expected no negative value",
            40);
        int size = Int32(h, DictionaryOffset), nwords = Int32(h, DictionaryOffset + 4), nlabels = Int32(h, DictionaryOffset + 8);
        long pruned = BinaryPrimitives.ReadInt64LittleEndian(h[84..]);
        if (nwords < 0 || nlabels < 0 || (long)nwords + nlabels != size)
            throw Bad(file, $"the dictionary says {size} entries = {nwords} words + {nlabels} labels; that does not add up",
                DictionaryOffset);
        if (size > (file.Length - EntriesOffset) / MinEntryBytes)
            throw Bad(file, $"the dictionary says {size} entries, more than the {file.Length} bytes of the file can hold; truncated, or " +
                "a " +
                "wrong count?", DictionaryOffset);
        if (pruned < -1 || pruned > (file.Length - EntriesOffset) / 8)
            throw Bad(file, $"pruneidx_size is {pruned}; expected −1 (not pruned) or a count of (bucket, row) pairs the file can hold", 84);

        int rows = Math.Min(nwords, options.Limit ?? int.MaxValue);
        var keys = new string[rows];
        var offsets = new long[rows];
        long pos = EntriesOffset;
        for (int i = 0; i < size; i++)
        {
            var window = file.Span(pos, (int)Math.Min(file.Length - pos, MaxWordBytes));
            int nul = window.IndexOf((byte)0);
            if (nul < 0 || file.Length - (pos + nul + 1) < 9)
                throw Bad(file, $"unexpected end of the dictionary in entry {i + 1} of {size} (a NUL-terminated word, its count and " +
                    "type); truncated?", pos);
            int type = file.At(pos + nul + 9);
            if (type != (i < nwords ? 0 : 1))
                throw Bad(file, $"entry {i + 1} has type {type}; expected {(i < nwords ? "0 (a word)" : "1 (a label)")}: words come " +
                    "first, then labels", pos + nul + 9);
            if (i < rows)
            {
                offsets[i] = pos;
                keys[i] = KeyDecoder.Decode(window[..nul], options.Utf8Errors, file.Path, null, pos);
            }
            pos += nul + 10;
        }
        long ngramRows = pruned >= 0 ? pruned : bucket;
        Dictionary<int, int>? prune = null;
        if (pruned >= 0)
        {
            if (file.Length - pos < 8 * pruned) throw Bad(file, $"unexpected end of file in the {pruned} pruned-bucket pairs; truncated?",
                pos);
            prune = new Dictionary<int, int>((int)pruned);
            for (long p = 0; p < pruned; p++, pos += 8)
            {
                int from = BinaryPrimitives.ReadInt32LittleEndian(file.Span(pos, 4)),
                    to = BinaryPrimitives.ReadInt32LittleEndian(file.Span(pos + 4, 4));
                if (from < 0 || from >= bucket || to < 0 || to >= pruned || !prune.TryAdd(from, to))
                    throw Bad(file, $"pruned pair {p + 1} maps bucket {from} to row {to}; expected a new bucket below {bucket} and a row " +
                        $"below {pruned}", pos);
            }
        }

        if (file.Length - pos < 17) throw Bad(file, "unexpected end of file before the input matrix; truncated?", pos);
        byte quant = file.At(pos);
        if (quant == 1)
            throw Bad(file, "a quantized model (fastText quantize, usually .ftz): its input matrix is product-quantized; TokenSpace " +
                "reads " +
                "full-precision .bin models only", pos);
        if (quant != 0) throw Bad(file, $"quant_input is {quant}; expected 0 or 1", pos);
        long m = BinaryPrimitives.ReadInt64LittleEndian(file.Span(pos + 1, 8)),
            n = BinaryPrimitives.ReadInt64LittleEndian(file.Span(pos + 9, 8));
        if (n != dim || m != nwords + ngramRows)
            throw Bad(file, $"the input matrix is {m} × {n}; expected {nwords} words + {ngramRows} n-gram rows = {nwords + ngramRows} × " +
                $"dim {dim}", pos + 1);
        pos += 17;
        if (m > int.MaxValue / n) throw Bad(file,
            $"the input matrix {m} × {n} has more than {int.MaxValue} values, too many for one matrix", pos - 16);
        if (file.Length - pos < m * n * sizeof(float))
            throw Bad(file, $"the input matrix needs {m * n * sizeof(float)} bytes, the file has {file.Length - pos} left; truncated?",
                pos);
        var input = file.Elements<float>(pos, (int)(m * n));
        int bad = NonFinite.IndexOf(input.Span);
        if (bad >= 0)
            throw Bad(file, $"input matrix element [{bad / dim}, {bad % dim}] is not finite; NaN and infinity are not allowed (a " +
                "diverged " +
                "training run?)", pos + 4L * bad);

        var model = new SubwordVectors(input[(nwords * dim)..], dim, minn, maxn, bucket, prune, file);
        var vectors = new float[(long)rows * dim];
        const int UnitRows = 4096;
        Threads.For((rows + UnitRows - 1) / UnitRows, u =>
        {
            var sum = new double[dim];
            for (int i = u * UnitRows; i < Math.Min(rows, (u + 1) * UnitRows); i++)
            {
                var own = input.Span.Slice(i * dim, dim);
                for (int j = 0; j < dim; j++) sum[j] = own[j];
                int count = keys[i] == EndOfSentence || maxn == 0 || bucket == 0 ? 0 : model.AddNgrams(keys[i], sum);
                SubwordVectors.Mean(sum, count + 1, vectors.AsSpan(i * dim, dim));
            }
        });
        var kv = new KeyedVectors(KeyDecoder.Table(keys, file.Path, r => (null, offsets[r])), vectors, dim, owner: null);
        if (maxn == 0 || bucket == 0) return kv; // no n-grams: the vectors are the word rows, nothing more to keep
        keepMapped = true;
        return kv.WithSubwords(model);
    }

    static int Int32(ReadOnlySpan<byte> h, int at) => BinaryPrimitives.ReadInt32LittleEndian(h[at..]);

    static FileFormatException Bad(MappedFile file, string cause, long offset) => new(file.Path, cause, byteOffset: offset);
}
