using System.Runtime.InteropServices;
using TokenSpace.Vectors;

namespace TokenSpace.Tests.Vectors;

public sealed unsafe class RowCodesTests
{
    static float[] Unit(Random random, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        float norm = MathF.Sqrt(v.Sum(x => x * x));
        for (int i = 0; i < n; i++) v[i] /= norm;
        return v;
    }

    /// <summary>The kernel's score of two unit vectors beside its scalar twin's, and the exact cosine.</summary>
    static (float Fast, double Scalar, double Exact) Scores<TCode>(int n, int seed) where TCode : struct, IRowCode
    {
        var random = new Random(seed);
        float[] a = Unit(random, n), b = Unit(random, n);
        byte* query = (byte*)NativeMemory.AlignedAlloc((nuint)TCode.QueryBytes(n), 64);
        byte* row = (byte*)NativeMemory.AlignedAlloc((nuint)TCode.RowBytes(n), 64);
        byte* rowQuery = (byte*)NativeMemory.AlignedAlloc((nuint)TCode.QueryBytes(n), 64);
        try
        {
            TCode.Query(a, query);
            TCode.Encode(b, row);
            // A stored row taken as a query scores like the vector it stores.
            TCode.RowQuery(row, rowQuery, n);
            Assert.Equal(TCode.Score(rowQuery, row, n), TCode.ScoreScalar(rowQuery, row, n), 4);
            return (TCode.Score(query, row, n), TCode.ScoreScalar(query, row, n), VectorMath.DotScalar(a, b));
        }
        finally
        {
            NativeMemory.AlignedFree(query);
            NativeMemory.AlignedFree(row);
            NativeMemory.AlignedFree(rowQuery);
        }
    }

    public static TheoryData<int> Lengths => [1, 7, 8, 15, 16, 17, 31, 33, 100, 1023];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Float32Score_AnyLength_MatchesScalarAndCosine(int n)
    {
        var (fast, scalar, exact) = Scores<Float32Rows>(n, n);
        Assert.Equal(scalar, fast, 5);
        Assert.Equal(exact, scalar, 6);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Float16Score_AnyLength_MatchesScalarNearCosine(int n)
    {
        var (fast, scalar, exact) = Scores<Float16Rows>(n, n);
        Assert.Equal(scalar, fast, 5);
        Assert.Equal(exact, scalar, 2);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Int8Score_AnyLength_MatchesScalarNearCosine(int n)
    {
        var (fast, scalar, exact) = Scores<Int8Rows>(n, n);
        Assert.Equal(scalar, fast, 5);
        Assert.InRange(scalar - exact, -0.03, 0.03);
    }
}
