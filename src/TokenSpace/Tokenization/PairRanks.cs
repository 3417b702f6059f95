using System.Numerics;
using System.Runtime.CompilerServices;

namespace TokenSpace.Tokenization;

/// <summary>
/// (left id, right id) → merge rank, as one flat open-addressing table. Most lookups while merging
/// miss, and a miss here touches one cache line, where <see cref="Dictionary{TKey, TValue}"/> touches
/// its bucket array and then its entry array.
/// </summary>
internal sealed class PairRanks
{
    const long Empty = -1; // ids are non-negative, so no real key is -1

    readonly long[] keys;
    readonly int[] ranks;
    readonly int shift;

    /// <summary>Builds the table; a pair listed twice keeps its first (lowest) rank.</summary>
    public PairRanks(IReadOnlyList<(int Left, int Right)> pairs)
    {
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, pairs.Count * 2)); // load ≤ 1/2
        shift = 64 - BitOperations.Log2((uint)capacity);
        keys = new long[capacity];
        ranks = new int[capacity];
        Array.Fill(keys, Empty);
        for (int rank = 0; rank < pairs.Count; rank++)
        {
            long key = Key(pairs[rank].Left, pairs[rank].Right);
            int slot = Slot(key);
            while (keys[slot] != Empty && keys[slot] != key) slot = (slot + 1) & (capacity - 1);
            if (keys[slot] == Empty)
            {
                keys[slot] = key;
                ranks[slot] = rank;
            }
        }
    }

    /// <summary>The rank of merging <paramref name="left"/> then <paramref name="right"/>, or -1 when they do not merge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Rank(int left, int right)
    {
        long key = Key(left, right);
        int mask = keys.Length - 1;
        for (int slot = Slot(key); ; slot = (slot + 1) & mask)
        {
            long found = keys[slot];
            if (found == key) return ranks[slot];
            if (found == Empty) return -1;
        }
    }

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    // Fibonacci hashing: the top bits of key × 2^64/φ spread neighbouring ids across the table.
    int Slot(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> shift);
}
