namespace TokenSpace.Projection;

/// <summary>
/// A point of the Barnes–Hut tree's space as a small struct, so <see cref="BarnesHutTree{T}"/> and the t-SNE gradient compile
/// to straight-line code for each dimension (the JIT specialises generics over structs) instead of loops over a runtime dimension.
/// </summary>
interface ITreePoint<T> where T : struct, ITreePoint<T>
{
    /// <summary>Coordinates a point; the tree splits a cell into 2^Dimensions orthants.</summary>
    static abstract int Dimensions { get; }

    /// <summary>Row <paramref name="i"/> of <paramref name="y"/>, <c>(n, Dimensions)</c>.</summary>
    static abstract T Read(ReadOnlySpan<double> y, int i);

    /// <summary>Stores <paramref name="value"/> as row <paramref name="i"/> of <paramref name="y"/>.</summary>
    static abstract void Write(T value, Span<double> y, int i);

    static abstract T operator +(T a, T b);

    static abstract T operator -(T a, T b);

    static abstract T operator *(T a, double s);

    static abstract T operator /(T a, double s);

    /// <summary>|a|².</summary>
    static abstract double SquaredNorm(T a);

    /// <summary>1 + |a|², summed from the 1 (the Student-t kernel's denominator, in the order the 2-D code has always used).</summary>
    static abstract double OnePlusSquaredNorm(T a);

    /// <summary>Whether every coordinate of a equals b's (==, not Equals: this is the tree's hot path).</summary>
    static abstract bool Same(T a, T b);

    /// <summary>The largest coordinate.</summary>
    static abstract double MaxCoordinate(T a);

    /// <summary>Coordinate-wise minimum.</summary>
    static abstract T Min(T a, T b);

    /// <summary>Coordinate-wise maximum.</summary>
    static abstract T Max(T a, T b);

    /// <summary>The orthant of <paramref name="p"/> around <paramref name="mid"/>: bit k set when p is in the upper half along axis
    /// k.</summary>
    static abstract int Orthant(T p, T mid);

    /// <summary>For each axis k, <paramref name="upper"/>'s coordinate when bit k of <paramref name="orthant"/> is set, else
    /// <paramref name="lower"/>'s.</summary>
    static abstract T Pick(int orthant, T lower, T upper);
}

/// <summary>A point in 2-D.</summary>
readonly record struct Point2(double X, double Y) : ITreePoint<Point2>
{
    public static int Dimensions => 2;

    public static Point2 Read(ReadOnlySpan<double> y, int i) => new(y[2 * i], y[2 * i + 1]);

    public static void Write(Point2 value, Span<double> y, int i) => (y[2 * i], y[2 * i + 1]) = (value.X, value.Y);

    public static Point2 operator +(Point2 a, Point2 b) => new(a.X + b.X, a.Y + b.Y);

    public static Point2 operator -(Point2 a, Point2 b) => new(a.X - b.X, a.Y - b.Y);

    public static Point2 operator *(Point2 a, double s) => new(a.X * s, a.Y * s);

    public static Point2 operator /(Point2 a, double s) => new(a.X / s, a.Y / s);

    public static double SquaredNorm(Point2 a) => a.X * a.X + a.Y * a.Y;

    public static double OnePlusSquaredNorm(Point2 a) => 1 + a.X * a.X + a.Y * a.Y;

    public static bool Same(Point2 a, Point2 b) => a.X == b.X && a.Y == b.Y;

    public static double MaxCoordinate(Point2 a) => Math.Max(a.X, a.Y);

    public static Point2 Min(Point2 a, Point2 b) => new(Math.Min(a.X, b.X), Math.Min(a.Y, b.Y));

    public static Point2 Max(Point2 a, Point2 b) => new(Math.Max(a.X, b.X), Math.Max(a.Y, b.Y));

    public static int Orthant(Point2 p, Point2 mid) => (p.X >= mid.X ? 1 : 0) | (p.Y >= mid.Y ? 2 : 0);

    public static Point2 Pick(int orthant, Point2 lower, Point2 upper) =>
        new((orthant & 1) != 0 ? upper.X : lower.X, (orthant & 2) != 0 ? upper.Y : lower.Y);
}

/// <summary>A point in 3-D.</summary>
readonly record struct Point3(double X, double Y, double Z) : ITreePoint<Point3>
{
    public static int Dimensions => 3;

    public static Point3 Read(ReadOnlySpan<double> y, int i) => new(y[3 * i], y[3 * i + 1], y[3 * i + 2]);

    public static void Write(Point3 value, Span<double> y, int i) => (y[3 * i], y[3 * i + 1], y[3 * i + 2]) = (value.X, value.Y, value.Z);

    public static Point3 operator +(Point3 a, Point3 b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);

    public static Point3 operator -(Point3 a, Point3 b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);

    public static Point3 operator *(Point3 a, double s) => new(a.X * s, a.Y * s, a.Z * s);

    public static Point3 operator /(Point3 a, double s) => new(a.X / s, a.Y / s, a.Z / s);

    public static double SquaredNorm(Point3 a) => a.X * a.X + a.Y * a.Y + a.Z * a.Z;

    public static double OnePlusSquaredNorm(Point3 a) => 1 + a.X * a.X + a.Y * a.Y + a.Z * a.Z;

    public static bool Same(Point3 a, Point3 b) => a.X == b.X && a.Y == b.Y && a.Z == b.Z;

    public static double MaxCoordinate(Point3 a) => Math.Max(Math.Max(a.X, a.Y), a.Z);

    public static Point3 Min(Point3 a, Point3 b) => new(Math.Min(a.X, b.X), Math.Min(a.Y, b.Y), Math.Min(a.Z, b.Z));

    public static Point3 Max(Point3 a, Point3 b) => new(Math.Max(a.X, b.X), Math.Max(a.Y, b.Y), Math.Max(a.Z, b.Z));

    public static int Orthant(Point3 p, Point3 mid) => (p.X >= mid.X ? 1 : 0) | (p.Y >= mid.Y ? 2 : 0) | (p.Z >= mid.Z ? 4 : 0);

    public static Point3 Pick(int orthant, Point3 lower, Point3 upper) => new((orthant & 1) != 0 ? upper.X : lower.X,
        (orthant & 2) != 0 ? upper.Y : lower.Y, (orthant & 4) != 0 ? upper.Z : lower.Z);
}
