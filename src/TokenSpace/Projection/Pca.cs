using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;
using TokenSpace.Tensors;

namespace TokenSpace.Projection;

/// <summary>
/// A fitted principal component analysis of <c>n</c> rows of dimension <c>d</c>, keeping <c>k</c> components.
/// </summary>
/// <param name="Coordinates">The rows projected on the components, <c>(n, k)</c> row-major.</param>
/// <param name="Components">The principal axes, <c>(k, d)</c> row-major, unit length, by decreasing variance.</param>
/// <param name="ExplainedVariance">The variance along each component (sample variance, divided by n - 1), <c>(k)</c>.</param>
/// <param name="ExplainedVarianceRatio">Each component's share of the total variance, <c>(k)</c>.</param>
/// <param name="Mean">The mean row that was subtracted, <c>(d)</c>.</param>
public sealed record PcaResult(double[] Coordinates, double[] Components, double[] ExplainedVariance, double[] ExplainedVarianceRatio,
    double[] Mean);

/// <summary>Principal component analysis through the symmetric eigendecomposition of the covariance matrix (MathNet.Numerics).</summary>
public static class Pca
{
    /// <summary>
    /// Projects the rows of <paramref name="matrix"/> on their top <paramref name="k"/> principal components,
    /// as scikit-learn's <c>PCA(n_components=k).fit_transform</c>. Signs follow scikit-learn 1.2's
    /// <c>svd_flip</c>: in each column of coordinates, the entry of largest magnitude is positive, so a
    /// result never depends on the eigen-solver's arbitrary sign.
    /// </summary>
    /// <example><code>var pca = Pca.Fit(vectors, n, d, 2); double x0 = pca.Coordinates[0], y0 = pca.Coordinates[1];</code></example>
    /// <param name="matrix">The rows, <c>(n, d)</c> row-major.</param>
    /// <param name="n">Number of rows, at least 2.</param>
    /// <param name="d">Dimension of a row.</param>
    /// <param name="k">Components to keep, in [1, min(n, d)].</param>
    /// <exception cref="ArgumentException">The sizes disagree with the matrix, or k is out of range.</exception>
    public static PcaResult Fit(ReadOnlySpan<float> matrix, int n, int d, int k)
    {
        if (n < 2) throw new ArgumentException($"PCA needs at least 2 rows, got {n}", nameof(n));
        if (d < 1) throw new ArgumentException($"PCA needs rows of dimension at least 1, got {d}", nameof(d));
        if (matrix.Length != (long)n * d) throw new ArgumentException($"matrix has {matrix.Length} values, expected n*d = {n}*{d}",
            nameof(matrix));
        if (k < 1 || k > Math.Min(n, d)) throw new ArgumentException($"k = {k} must be in [1, min(n, d) = {Math.Min(n, d)}]", nameof(k));

        // Centred columns in double, column-major (d, n): each covariance entry is then one contiguous dot product.
        var mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) mean[j] += matrix[i * d + j];
        }
        for (int j = 0; j < d; j++) mean[j] /= n;
        var columns = new double[(long)d * n]; // (d, n)
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) columns[(long)j * n + i] = matrix[i * d + j] - mean[j];
        }

        var covariance = new double[d * d]; // (d, d), symmetric
        Threads.For(d, j =>
        {
            var cj = new ReadOnlySpan<double>(columns, j * n, n);
            for (int l = j; l < d; l++)
            {
                double c = TensorPrimitives.Dot(cj, new ReadOnlySpan<double>(columns, l * n, n)) / (n - 1);
                covariance[j * d + l] = c;
                covariance[l * d + j] = c;
            }
        });
        double totalVariance = 0;
        for (int j = 0; j < d; j++) totalVariance += covariance[j * d + j];

        var evd = Matrix<double>.Build.Dense(d, d, covariance).Evd(Symmetricity.Symmetric);
        var eigenvectors = evd.EigenVectors;
        int[] order = Enumerable.Range(0, d).OrderByDescending(c => evd.EigenValues[c].Real).ThenBy(c => c).ToArray();

        var components = new double[k * d];
        var variance = new double[k];
        var ratio = new double[k];
        var coordinates = new double[n * k];
        for (int c = 0; c < k; c++)
        {
            int e = order[c];
            // Rounding can leave a tiny negative eigenvalue on a rank-deficient matrix; a variance is never negative.
            variance[c] = Math.Max(evd.EigenValues[e].Real, 0);
            ratio[c] = totalVariance > 0 ? variance[c] / totalVariance : 0;
            for (int j = 0; j < d; j++) components[c * d + j] = eigenvectors[j, e];

            // The scores along this axis, accumulated column by column so every read is contiguous.
            var scores = new double[n];
            for (int j = 0; j < d; j++)
            {
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(columns, j * n, n), components[c * d + j], scores, scores);
            }
            int argmax = 0;
            for (int i = 0; i < n; i++)
            {
                coordinates[i * k + c] = scores[i];
                if (Math.Abs(scores[i]) > Math.Abs(scores[argmax])) argmax = i;
            }
            if (coordinates[argmax * k + c] < 0)
            {
                for (int j = 0; j < d; j++) components[c * d + j] = -components[c * d + j];
                for (int i = 0; i < n; i++) coordinates[i * k + c] = -coordinates[i * k + c];
            }
        }
        return new PcaResult(coordinates, components, variance, ratio, mean);
    }
}
