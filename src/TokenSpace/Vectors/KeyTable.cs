using System.Buffers;
using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;

namespace TokenSpace.Vectors;

/// <summary>
/// The keys of a <see cref="KeyedVectors"/>, held compactly: their UTF-8 bytes back to back in one block, where each ends,
/// and an open-addressing table of rows hashed by those bytes (built once, on first lookup or by <see cref="CheckUnique"/>).
/// A string is made only when a key is read; a lookup encodes the query into UTF-8 on the stack and compares bytes.
/// Ten million short keys (<c>w123</c>) take about 14 bytes each here, where a .NET string each and a
/// <c>Dictionary&lt;string, int&gt;</c> took about 76.
/// </summary>
sealed class KeyTable : IReadOnlyList<string>
{
    /// <summary>The most keys the hash table holds (its slots stay at most 3/4 full).</summary>
    const int MaxKeys = (3 << 28) - 1;

    readonly byte[] bytes; // the keys' UTF-8 back to back (the array may be longer than the last end)
    readonly int[] ends;   // (Count) where each key's bytes end in `bytes`
    Func<string, int, int, Exception>? duplicate; // (key, first row, repeated row) → what to throw; dropped once the table is built
    int[]? slots;          // per slot 0 (empty) or row + 1 in the low RowBits bits, the hash's top bits above; a power of two long
    readonly int rowBits;  // bits that hold Count
    readonly Lock gate = new();

    /// <summary>Wraps the keys <paramref name="bytes"/> ending at <paramref name="ends"/>; <paramref name="duplicate"/> makes the error
    /// for a key that repeats, thrown when the table is built.</summary>
    public KeyTable(byte[] bytes, int[] ends, Func<string, int, int, Exception> duplicate)
    {
        if (ends.Length > MaxKeys) throw new ArgumentException($"{ends.Length} keys are more than the {MaxKeys} one set can hold");
        this.bytes = bytes;
        this.ends = ends;
        this.duplicate = duplicate;
        rowBits = 32 - BitOperations.LeadingZeroCount((uint)ends.Length);
    }

    /// <summary>The table of <paramref name="keys"/> (not yet checked for repeats).</summary>
    public static KeyTable FromStrings(IReadOnlyList<string> keys, Func<string, int, int, Exception> duplicate)
    {
        long total = 0;
        foreach (string key in keys) total += Encoding.UTF8.GetByteCount(key); // a lone surrogate counts 3 bytes, as Encode writes it
        if (total > Array.MaxLength) throw new ArgumentException($"the keys take {total} bytes of UTF-8, more than one array holds");
        var bytes = new byte[total];
        var ends = new int[keys.Count];
        int at = 0;
        for (int i = 0; i < keys.Count; i++)
        {
            at += Encode(keys[i], bytes.AsSpan(at));
            ends[i] = at;
        }
        return new KeyTable(bytes, ends, duplicate);
    }

    /// <summary>Appends keys one after another into a growing block, for readers that meet them in order.</summary>
    public sealed class Builder(int count, long byteCapacity)
    {
        byte[] block = new byte[Math.Min(byteCapacity, Array.MaxLength)];
        readonly int[] ends = new int[count];
        int rows, at;

        /// <summary>Appends the next key's UTF-8.</summary>
        public void Add(ReadOnlySpan<byte> key)
        {
            if (key.Length > block.Length - at)
            {
                if ((long)at + key.Length > Array.MaxLength) throw new ArgumentException("the keys take more bytes than one array holds");
                Array.Resize(ref block, (int)Math.Min(Math.Max(2L * block.Length, (long)at + key.Length), Array.MaxLength));
            }
            key.CopyTo(block.AsSpan(at));
            ends[rows++] = at += key.Length;
        }

        /// <summary>The table of the keys added (see the constructor for <paramref name="duplicate"/>).</summary>
        public KeyTable Build(Func<string, int, int, Exception> duplicate) =>
            new(block, rows == ends.Length ? ends : ends[..rows], duplicate);
    }

    /// <summary>Number of keys.</summary>
    public int Count => ends.Length;

    /// <summary>Key <paramref name="row"/>, made into a string.</summary>
    public string this[int row] => Decode(KeyBytes(row));

    /// <summary>The UTF-8 bytes of key <paramref name="row"/>.</summary>
    public ReadOnlySpan<byte> KeyBytes(int row)
    {
        int start = row == 0 ? 0 : ends[row - 1];
        return bytes.AsSpan(start, ends[row] - start);
    }

    /// <summary>The row of <paramref name="key"/>, or -1.</summary>
    /// <exception cref="Exception">The first lookup finds a repeated key (the exception the constructor's callback made).</exception>
    [SkipLocalsInit]
    public int Find(ReadOnlySpan<char> key)
    {
        int max = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = max > 256 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[256];
        int row = Find(utf8[..Encode(key, utf8)]);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        return row;
    }

    /// <summary>The row of the key whose UTF-8 is <paramref name="utf8"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> utf8)
    {
        var table = Slots();
        int mask = table.Length - 1, hash = Hash(utf8);
        uint tag = (uint)hash >> rowBits << rowBits;
        for (int s = hash & mask; ; s = (s + 1) & mask)
        {
            uint entry = (uint)table[s];
            if (entry == 0) return -1;
            if ((entry ^ tag) >> rowBits == 0 && KeyBytes(Row(entry)).SequenceEqual(utf8)) return Row(entry);
        }
    }

    /// <summary>The row a slot's entry holds.</summary>
    int Row(uint entry) => (int)(entry & (uint.MaxValue >> (32 - rowBits))) - 1;

    /// <summary>Builds the hash table now, throwing the constructor's duplicate error at the second occurrence of a key.</summary>
    public void CheckUnique() => Slots();

    public IEnumerator<string> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    int[] Slots()
    {
        if (Volatile.Read(ref slots) is { } built) return built;
        lock (gate)
        {
            if (slots is not null) return slots;
            // Linear probing in a power-of-two table at most 3/4 full, 4 bytes a slot: the bits of a slot that the row does not
            // need hold the top of the key's hash, so most probes of another key are told apart without reading its bytes.
            var table = new int[BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, Count + Count / 3 + 1))];
            int mask = table.Length - 1;
            for (int row = 0; row < Count; row++)
            {
                var key = KeyBytes(row);
                int hash = Hash(key);
                uint tag = (uint)hash >> rowBits << rowBits;
                int s = hash & mask;
                for (; table[s] != 0; s = (s + 1) & mask)
                {
                    uint entry = (uint)table[s];
                    if ((entry ^ tag) >> rowBits == 0 && KeyBytes(Row(entry)).SequenceEqual(key))
                        throw duplicate!(this[row], Row(entry), row);
                }
                table[s] = (int)(tag | (uint)(row + 1));
            }
            duplicate = null;
            Volatile.Write(ref slots, table);
            return table;
        }
    }

    /// <summary>
    /// A hash of the bytes: Marvin, which .NET hashes strings with, seeded per process so that no file can be made to collide
    /// on purpose, over the bytes read as pairs, and an odd last byte mixed in after.
    /// </summary>
    static int Hash(ReadOnlySpan<byte> key)
    {
        int hash = string.GetHashCode(MemoryMarshal.Cast<byte, char>(key));
        return (key.Length & 1) == 0 ? hash : HashCode.Combine(hash, key[^1]);
    }

    /// <summary>
    /// The UTF-8 of <paramref name="key"/> into <paramref name="destination"/> (at least its UTF-8 byte count long); a lone
    /// surrogate, which UTF-8 cannot hold but a character vocabulary of UTF-16 code units can, as its 3-byte generalized form
    /// (WTF-8), so that every string comes back from <see cref="Decode"/> as it went in. Returns the bytes written.
    /// </summary>
    static int Encode(ReadOnlySpan<char> key, Span<byte> destination)
    {
        int written = 0;
        while (true)
        {
            var status = Utf8.FromUtf16(key, destination[written..], out int read, out int n, replaceInvalidSequences: false);
            written += n;
            if (status == OperationStatus.Done) return written;
            int c = key[read]; // InvalidData: a lone surrogate
            destination[written++] = (byte)(0xE0 | c >> 12);
            destination[written++] = (byte)(0x80 | ((c >> 6) & 0x3F));
            destination[written++] = (byte)(0x80 | (c & 0x3F));
            key = key[(read + 1)..];
        }
    }

    /// <summary>The string whose <see cref="Encode"/> is <paramref name="utf8"/>.</summary>
    static string Decode(ReadOnlySpan<byte> utf8)
    {
        if (Utf8.IsValid(utf8)) return Encoding.UTF8.GetString(utf8);
        var chars = new char[utf8.Length];
        int n = 0;
        while (true)
        {
            var status = Utf8.ToUtf16(utf8, chars.AsSpan(n), out int read, out int written, replaceInvalidSequences: false);
            n += written;
            if (status == OperationStatus.Done) return new string(chars, 0, n);
            var s = utf8[read..]; // a lone surrogate's three bytes
            chars[n++] = (char)((s[0] & 0x0F) << 12 | (s[1] & 0x3F) << 6 | (s[2] & 0x3F));
            utf8 = s[3..];
        }
    }
}
