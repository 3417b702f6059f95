using MathNet.Numerics.LinearAlgebra;
using TokenSpace.Tensors;

namespace TokenSpace.Projection;

/// <summary>
/// UMAP's spectral initialisation (umap-learn's <c>spectral_layout</c>): the eigenvectors of the normalised Laplacian
/// L = I − D^(−1/2) W D^(−1/2) with the smallest eigenvalues after the trivial one D^(1/2)·1, found here as the largest
/// eigenvectors of D^(−1/2) W D^(−1/2) by Lanczos iteration with full reorthogonalisation against that trivial vector and
/// every earlier Lanczos vector. Stops when the wanted Ritz pairs' residuals are below 1e-4 (ARPACK's tolerance in
/// umap-learn) or at the step budget, whose Ritz vectors are then the layout.
/// </summary>
static class SpectralLayout
{
    const double Tolerance = 1e-4;
    const int CheckEvery = 10;
    const int MaxSteps = 300;
    // Lanczos keeps every vector: at most this many doubles in all (160 MB), so a large graph gets fewer steps.
    const long MaxStoredValues = 20_000_000;
    const int RowsPerUnit = 1024;

    /// <summary>
    /// The <paramref name="dims"/> eigenvectors, <c>(n, dims)</c> row-major, each with unit norm and its largest-magnitude
    /// entry positive. The graph must be connected (else the trivial eigenvalue repeats and the answer says nothing).
    /// </summary>
    /// <param name="graph">Symmetric weights.</param>
    /// <param name="dims">How many eigenvectors; below the number of vertices.</param>
    /// <param name="rng">Draws the starting vector.</param>
    /// <param name="cancellationToken">Checked at every step.</param>
    public static double[] Compute(UmapGraph graph, int dims, Rng rng, CancellationToken cancellationToken)
    {
        int n = graph.Count;
        var scale = new double[n]; // D^(−1/2)
        var trivial = new double[n]; // D^(1/2)·1, normalised
        for (int i = 0; i < n; i++)
        {
            double degree = 0;
            for (int e = graph.RowStart[i]; e < graph.RowStart[i + 1]; e++) degree += graph.Values[e];
            scale[i] = 1 / Math.Sqrt(degree);
            trivial[i] = Math.Sqrt(degree);
        }
        Normalise(trivial);

        int steps = (int)Math.Min(Math.Min(n - 1, MaxSteps), Math.Max(dims + CheckEvery, MaxStoredValues / n));
        var basis = new List<double[]>();
        var alpha = new List<double>();
        var beta = new List<double>();
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rng.NextDouble() - 0.5;
        Orthogonalise(v, trivial, basis);
        Normalise(v);
        var w = new double[n];
        (double[] Values, Matrix<double> Vectors) ritz = default;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            basis.Add(v);
            Multiply(graph, scale, v, w);
            alpha.Add(Dot(w, v));
            for (int i = 0; i < n; i++) w[i] -= alpha[^1] * v[i] + (beta.Count > 0 ? beta[^1] * basis[^2][i] : 0);
            // Twice is enough (Kahan–Parlett): the second pass removes what rounding left of the first.
            Orthogonalise(w, trivial, basis);
            Orthogonalise(w, trivial, basis);
            double norm = Math.Sqrt(Dot(w, w));
            int m = basis.Count;
            bool last = m >= steps || norm < 1e-12;
            if (m >= dims && (last || m % CheckEvery == 0))
            {
                ritz = Ritz(alpha, beta, dims);
                bool converged = true;
                for (int c = 0; c < dims; c++) converged &= Math.Abs(norm * ritz.Vectors[m - 1, c]) <= Tolerance;
                if (converged || last) break;
            }
            beta.Add(norm);
            v = new double[n];
            for (int i = 0; i < n; i++) v[i] = w[i] / norm;
        }

        var layout = new double[n * dims];
        for (int c = 0; c < dims; c++)
        {
            var vector = new double[n];
            for (int j = 0; j < basis.Count; j++)
            {
                double s = ritz.Vectors[j, c];
                var bj = basis[j];
                for (int i = 0; i < n; i++) vector[i] += s * bj[i];
            }
            Normalise(vector);
            int largest = 0;
            for (int i = 1; i < n; i++) if (Math.Abs(vector[i]) > Math.Abs(vector[largest])) largest = i;
            double sign = vector[largest] < 0 ? -1 : 1;
            for (int i = 0; i < n; i++) layout[i * dims + c] = sign * vector[i];
        }
        return layout;
    }

    /// <summary>The <paramref name="dims"/> largest eigenpairs of the tridiagonal matrix (α on the diagonal, β beside it), largest
    /// first.</summary>
    static (double[] Values, Matrix<double> Vectors) Ritz(List<double> alpha, List<double> beta, int dims)
    {
        int m = alpha.Count;
        var t = Matrix<double>.Build.Dense(m, m);
        for (int j = 0; j < m; j++)
        {
            t[j, j] = alpha[j];
            if (j + 1 < m)
            {
                t[j, j + 1] = beta[j];
                t[j + 1, j] = beta[j];
            }
        }
        var evd = t.Evd(Symmetricity.Symmetric);
        int[] order = Enumerable.Range(0, m).OrderByDescending(c => evd.EigenValues[c].Real).ThenBy(c => c).Take(dims).ToArray();
        var vectors = Matrix<double>.Build.Dense(m, dims);
        var values = new double[dims];
        for (int c = 0; c < dims; c++)
        {
            values[c] = evd.EigenValues[order[c]].Real;
            for (int j = 0; j < m; j++) vectors[j, c] = evd.EigenVectors[j, order[c]];
        }
        return (values, vectors);
    }

    /// <summary>output = D^(−1/2) W D^(−1/2) input, rows split into fixed units.</summary>
    static void Multiply(UmapGraph graph, double[] scale, double[] input, double[] output)
    {
        int n = graph.Count;
        Threads.For((n + RowsPerUnit - 1) / RowsPerUnit, unit =>
        {
            for (int i = unit * RowsPerUnit, end = Math.Min(n, i + RowsPerUnit); i < end; i++)
            {
                double sum = 0;
                for (int e = graph.RowStart[i]; e < graph.RowStart[i + 1]; e++)
                {
                    int j = graph.Columns[e];
                    sum += graph.Values[e] * scale[j] * input[j];
                }
                output[i] = scale[i] * sum;
            }
        });
    }

    /// <summary>Removes from <paramref name="w"/> its components along the trivial vector and every basis vector.</summary>
    static void Orthogonalise(double[] w, double[] trivial, List<double[]> basis)
    {
        Subtract(w, trivial);
        foreach (var b in basis) Subtract(w, b);
    }

    static void Subtract(double[] w, double[] unit)
    {
        double dot = Dot(w, unit);
        for (int i = 0; i < w.Length; i++) w[i] -= dot * unit[i];
    }

    static double Dot(double[] x, double[] y) => System.Numerics.Tensors.TensorPrimitives.Dot<double>(x, y);

    static void Normalise(double[] x)
    {
        double norm = Math.Sqrt(Dot(x, x));
        for (int i = 0; i < x.Length; i++) x[i] /= norm;
    }
}
