using MathNet.Numerics.LinearAlgebra;

namespace TokenSpace.Projection;

/// <summary>The orthogonal map that best lays one point set onto another.</summary>
/// <param name="Aligned">The source points after the map, <c>(n, dims)</c> row-major.</param>
/// <param name="Rotation">The orthogonal matrix R, <c>(dims, dims)</c> row-major: aligned = scale · (source − source mean) · R + target mean.</param>
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
            throw new ArgumentException($"source ({source.Length} values) and target ({target.Length}) must hold the same non-zero number of {dims}-D points");
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
}
