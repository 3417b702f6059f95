using TokenSpace.Tensors;

namespace TokenSpace.Tests.Tensors;

public class NonFiniteTests
{
    public static TheoryData<int> Lengths => new(0, 1, 7, 8, 15, 16, 17, 31, 33, 1023);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void IndexOf_EachPositionAndKind_MatchesScalar(int n)
    {
        var values = Enumerable.Range(0, n).Select(i => (i % 3 - 1) * 3e38f).ToArray();
        Assert.Equal(-1, NonFinite.IndexOf(values));
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(-1) })
        {
            for (int at = 0; at < n; at++)
            {
                var copy = values.ToArray();
                copy[at] = bad;
                if (at + 1 < n) copy[n - 1] = float.NaN; // the first one must be reported
                Assert.Equal(NonFinite.IndexOfScalar(copy), NonFinite.IndexOf(copy));
                Assert.Equal(at, NonFinite.IndexOf(copy));
            }
        }
    }

    [Fact]
    public void IndexOfParallel_SeveralUnits_FirstIndex()
    {
        var values = new float[(3 << 20) + 5];
        Assert.Equal(-1, NonFinite.IndexOfParallel(values));
        values[^1] = float.NaN;
        values[(2 << 20) + 3] = float.PositiveInfinity;
        Assert.Equal((2 << 20) + 3, NonFinite.IndexOfParallel(values));
    }
}
