using MathNet.Numerics.LinearAlgebra;

namespace TokenSpace.Projection;

/// <summary>The orthogonal map that best lays one point set onto another.</summary>
/// <param name="Aligned">The source points after the map, <c>(n, dims)</c> row-major.</param>
/// <param name="Rotation">The orthogonal matrix R, <c>(dims, dims)</c> row-major: aligned = scale · (source − source mean) · R + target
/// mean.</param>
/// <param name="Scale">The uniform scale (1 without scaling).</param>
/// <param name="Residual">Σ |aligned − target|², the squared distance left.</param>
public sealed record ProcrustesResult(double[] Aligned, double[] Rotation, double Scale, double Residual);

/// <summary>Orthogonal Procrustes analysis (Schönemann 1966) through an SVD (MathNet.Numerics).</summary>
public static class Procrustes
{
    /// <summary>
    /// Finds the orthogonal R (rotation, or rotation with reflection) and, when <paramref name="allowScale"/>,
    /// the scale s minimising Σ |s (a_i − ā) R + b̄ − b_i|², and applies them to <paramref name="source"/>.
    /// With Aᵀ B = U Σ Vᵀ (both centred): R = U Vᵀ, s = tr Σ / |A|².
    /// </summary>
    /// <example><code>var frame = Procrustes.Align(step0, last, 2, allowScale: true).Aligned;</code></example>
    /// <param name="source">Points to move, <c>(n, dims)</c> row-major.</param>
    /// <param name="target">Points to match, same shape, same order.</param>
    /// <param name="dims">Dimension of a point.</param>
    /// <param name="allowScale">Also fit a uniform scale.</param>
    /// <exception cref="ArgumentException">The shapes differ or are not a whole number of points.</exception>
    public static ProcrustesResult Align(ReadOnlySpan<double> source, ReadOnlySpan<double> target, int dims, bool allowScale)
    {
        if (dims < 1) throw new ArgumentException($"dims must be at least 1, got {dims}", nameof(dims));
        if (source.Length != target.Length || source.Length % dims != 0 || source.Length == 0)
        {
            throw new ArgumentException($"source ({source.Length} values) and target ({target.Length}) must hold the same non-zero " +
                "number " +
                $"of {dims}-D points");
        }
        int n = source.Length / dims;
        var meanA = new double[dims];
        var meanB = new double[dims];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < dims; c++)
            {
                meanA[c] += source[i * dims + c] / n;
                meanB[c] += target[i * dims + c] / n;
            }
        }
        double[] sourceRows = source.ToArray(), targetRows = target.ToArray();
        var a = Matrix<double>.Build.Dense(n, dims, (i, c) => sourceRows[i * dims + c] - meanA[c]);
        var b = Matrix<double>.Build.Dense(n, dims, (i, c) => targetRows[i * dims + c] - meanB[c]);
        var svd = a.TransposeThisAndMultiply(b).Svd(computeVectors: true);
        var r = svd.U * svd.VT;
        double normA = a.FrobeniusNorm();
        double scale = allowScale && normA > 0 ? svd.S.Sum() / (normA * normA) : 1;
        var moved = a * r * scale;

        var aligned = new double[n * dims];
        double residual = 0;
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < dims; c++)
            {
                aligned[i * dims + c] = moved[i, c] + meanB[c];
                double delta = aligned[i * dims + c] - target[i * dims + c];
                residual += delta * delta;
            }
        }
        var rotation = new double[dims * dims];
        for (int row = 0; row < dims; row++)
        {
            for (int c = 0; c < dims; c++) rotation[row * dims + c] = r[row, c];
        }
        return new ProcrustesResult(aligned, rotation, scale, residual);
    }

    /// <summary>
    /// scipy.spatial.procrustes' disparity between two point sets: both centred and scaled to unit Frobenius norm,
    /// then Σ |a R s − b|² for the best orthogonal R and scale s, which is 1 − (Σσ)² with σ the singular values
    /// of Aᵀ B. 0 when one set is a rotated, scaled, shifted copy of the other; 1 when a set has no spread.
    /// </summary>
    /// <example><code>double d = Procrustes.Disparity(wteAtStep100, wteAtEnd, channels);</code></example>
    /// <param name="a">Points <c>(n, dims)</c> row-major.</param>
    /// <param name="b">The same points in another space, same shape and order.</param>
    /// <param name="dims">Dimension of a point.</param>
    /// <exception cref="ArgumentException">The shapes differ or are not a whole number of points.</exception>
    public static double Disparity(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int dims)
    {
        if (dims < 1 || a.Length != b.Length || a.Length == 0 || a.Length % dims != 0)
            throw new ArgumentException($"a ({a.Length} values) and b ({b.Length}) must hold the same non-zero number of {dims}-D points");
        var ma = Standardized(a, dims);
        var mb = Standardized(b, dims);
        if (ma is null || mb is null) return 1;
        double nuclear;
        if (ma.RowCount >= dims)
        {
            nuclear = ma.TransposeThisAndMultiply(mb).Svd(computeVectors: false).S.Sum();
        }
        else
        {
            // Fewer points than dimensions: the σ of Aᵀ B (dims × dims) are the square roots of the eigenvalues of
            // Ga^½ Gb Ga^½ with the n × n Gram matrices Ga = A Aᵀ, Gb = B Bᵀ, which costs n³ instead of dims³.
            var evd = ma.TransposeAndMultiply(ma).Evd(Symmetricity.Symmetric);
            var root = evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalArray(
                evd.EigenValues.Select(e => Math.Sqrt(Math.Max(e.Real, 0))).ToArray()) * evd.EigenVectors.Transpose();
            var inner = root * mb.TransposeAndMultiply(mb) * root;
            nuclear = inner.Evd(Symmetricity.Symmetric).EigenValues.Sum(e => Math.Sqrt(Math.Max(e.Real, 0)));
        }
        return Math.Max(0, 1 - nuclear * nuclear);
    }

    /// <summary>The points as a matrix, column means removed, divided by its Frobenius norm; null when that norm is 0.</summary>
    static Matrix<double>? Standardized(ReadOnlySpan<float> x, int dims)
    {
        int n = x.Length / dims;
        var values = x.ToArray();
        var m = Matrix<double>.Build.Dense(n, dims, (i, c) => values[i * dims + c]);
        var mean = m.ColumnSums() / n;
        for (int i = 0; i < n; i++) m.SetRow(i, m.Row(i) - mean);
        double norm = m.FrobeniusNorm();
        return norm == 0 ? null : m / norm;
    }
}
