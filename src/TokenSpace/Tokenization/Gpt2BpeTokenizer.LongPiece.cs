using System.Runtime.InteropServices;
using System.Text;

namespace TokenSpace.Tokenization;

public sealed partial class Gpt2BpeTokenizer
{
    /// <summary>
    /// BPE on a piece too long to merge at once (a file that is one run of a letter is one piece, and merging n
    /// bytes at once takes ~30n bytes). The piece's UTF-8 bytes are merged 2 × <c>window</c> at a time and cut at
    /// the first token boundary past <c>window</c>. No merge crossed that boundary, so the ids before it are BPE
    /// of that part alone. Two parts encode as their ids one after the other when the last id of the first and the
    /// first id of the second are compatible (BPE of their bytes together gives them back): the first merge across
    /// the junction would join two tokens lying inside those two ids, which BPE of those two alone would then make
    /// too. Where they are not compatible, the two parts are merged again as one. So the ids equal
    /// <see cref="Merge"/>'s on the whole piece, in the memory of a window plus 4 bytes per id.
    /// </summary>
    sealed class LongPiece(Gpt2BpeTokenizer bpe, byte runClass, int window)
    {
        readonly Encoder utf8 = Encoding.UTF8.GetEncoder();
        readonly List<int[]> parts = []; // the ids of each part so far, BPE of its bytes; every junction compatible
        readonly byte[] pending = new byte[2 * window + 16]; // bytes of the piece not yet in a part
        int count;

        /// <summary>The pre-tokenizer's class of the run the piece is.</summary>
        public byte RunClass => runClass;

        /// <summary>Takes more characters of the piece.</summary>
        public void Add(ReadOnlySpan<char> chars) => Add(chars, flush: false);

        /// <summary>Hands the ids of the whole piece to <paramref name="sink"/>, a part at a time.</summary>
        public void Finish(Action<ReadOnlySpan<int>> sink)
        {
            Add([], flush: true);
            if (count > 0) AddPart(bpe.Merge(pending.AsSpan(0, count)));
            foreach (int[] part in parts) sink(part);
        }

        void Add(ReadOnlySpan<char> chars, bool flush)
        {
            while (true)
            {
                utf8.Convert(chars, pending.AsSpan(count), flush, out int used, out int written, out _);
                count += written;
                chars = chars[used..];
                if (count >= 2 * window) Cut();
                else if (chars.IsEmpty) return;
            }
        }

        void Cut()
        {
            int[] merged = bpe.Merge(pending.AsSpan(0, count));
            int at = 0, bytes = 0;
            while (bytes < window) bytes += bpe.tokenBytes[merged[at++]].Length;
            AddPart(merged[..at]);
            pending.AsSpan(bytes, count - bytes).CopyTo(pending);
            count -= bytes;
        }

        void AddPart(int[] part)
        {
            while (parts.Count > 0 && !bpe.Compatible(parts[^1][^1], part[0]))
            {
                var bytes = new List<byte>();
                foreach (int id in parts[^1].Concat(part)) bytes.AddRange(bpe.tokenBytes[id]);
                parts.RemoveAt(parts.Count - 1);
                part = bpe.Merge(CollectionsMarshal.AsSpan(bytes));
            }
            parts.Add(part);
        }
    }

    /// <summary>Whether BPE of the bytes of <paramref name="left"/> then <paramref name="right"/> gives these two ids.</summary>
    bool Compatible(int left, int right)
    {
        byte[] both = [.. tokenBytes[left], .. tokenBytes[right]];
        int[] merged = Merge(both);
        return merged.Length == 2 && merged[0] == left && merged[1] == right;
    }
}
