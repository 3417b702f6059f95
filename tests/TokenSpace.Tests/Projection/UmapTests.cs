using System.Text.Json;
using MathNet.Numerics.LinearAlgebra;
using TokenSpace.Projection;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Projection;

[Collection(ProcessWideState.Name)]
public class UmapTests
{
    static JsonElement Golden(string section) =>
        JsonDocument.Parse(File.ReadAllText(TestData.Golden("umap_golden.json"))).RootElement.GetProperty(section);

    [Fact]
    public void CurveFit_UmapLearnSettings_MatchesFindAbParams()
    {
        foreach (var curve in Golden("curves").EnumerateArray())
        {
            var (a, b) = UmapCurve.Fit(curve.GetProperty("spread").GetDouble(), curve.GetProperty("min_dist").GetDouble());
            double expectedA = curve.GetProperty("a").GetDouble(), expectedB = curve.GetProperty("b").GetDouble();
            Assert.True(Math.Abs(a - expectedA) <= 1e-5 * expectedA, $"{curve}: a {a}, umap-learn {expectedA}");
            Assert.True(Math.Abs(b - expectedB) <= 1e-5 * expectedB, $"{curve}: b {b}, umap-learn {expectedB}");
        }
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(1, 1)]
    [InlineData(1, -0.1)]
    public void CurveFit_BadSettings_Throws(double spread, double minDist) =>
        Assert.Throws<ArgumentException>(() => UmapCurve.Fit(spread, minDist));

    [Fact]
    public void Graph_ExactNeighbours_MatchesFuzzySimplicialSet()
    {
        var g = Golden("graph");
        int n = g.GetProperty("n").GetInt32(), d = g.GetProperty("d").GetInt32(), others = g.GetProperty("n_neighbors").GetInt32() - 1;
        var x = ProjectionData.Floats(g.GetProperty("x"));
        var (indices, squared) = NearestNeighbours.Search(x, n, d, others, TestContext.Current.CancellationToken);
        var distances = squared.Select(Math.Sqrt).ToArray();

        var (rho, sigma) = UmapGraph.SmoothDistances(distances, n, others);
        var expectedRho = ProjectionData.Doubles(g.GetProperty("rhos"));
        var expectedSigma = ProjectionData.Doubles(g.GetProperty("sigmas"));
        // The bisection stops once the weights sum to within 1e-5 of log2 k, and umap-learn sums in float32: σ agrees to ~1e-4.
        for (int i = 0; i < n; i++)
        {
            Assert.True(Math.Abs(rho[i] - expectedRho[i]) <= 1e-6, $"rho[{i}] {rho[i]}, umap-learn {expectedRho[i]}");
            Assert.True(Math.Abs(sigma[i] - expectedSigma[i]) <= 1e-4 * expectedSigma[i], $"sigma[{i}] {sigma[i]}, umap-learn {expectedSigma[i]}");
        }

        var graph = UmapGraph.FromNeighbours(indices, distances, n, others);
        var expected = new double[n, n];
        var rows = g.GetProperty("rows").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var cols = g.GetProperty("cols").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var values = ProjectionData.Doubles(g.GetProperty("values"));
        for (int t = 0; t < rows.Length; t++) expected[rows[t], cols[t]] = values[t];
        var actual = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int e = graph.RowStart[i]; e < graph.RowStart[i + 1]; e++)
            {
                Assert.True(e == graph.RowStart[i] || graph.Columns[e] > graph.Columns[e - 1], $"row {i} is not sorted by column");
                actual[i, graph.Columns[e]] = graph.Values[e];
            }
        }
        Assert.Equal(rows.Length, graph.Columns.Length);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) Assert.True(Math.Abs(actual[i, j] - expected[i, j]) <= 1e-4, $"[{i},{j}]: {actual[i, j]}, umap-learn {expected[i, j]}");
        }
    }

    [Fact]
    public void SpectralLayout_SmallGraph_MatchesDenseEigenvectors()
    {
        const int n = 90, d = 3, others = 9;
        var x = ProjectionData.Clusters(1, n, d, seed: 2);
        var graph = Graph(x, n, d, others);
        var layout = SpectralLayout.Compute(graph, 2, new Rng(1), TestContext.Current.CancellationToken);

        // The oracle: L = I − D^(−1/2) W D^(−1/2) dense, all its eigenvectors; the second and third smallest eigenvalues.
        var w = Matrix<double>.Build.Dense(n, n);
        for (int i = 0; i < n; i++)
        {
            for (int e = graph.RowStart[i]; e < graph.RowStart[i + 1]; e++) w[i, graph.Columns[e]] = graph.Values[e];
        }
        var degree = w.RowSums();
        var laplacian = Matrix<double>.Build.DenseIdentity(n) - Matrix<double>.Build.Dense(n, n, (i, j) => w[i, j] / Math.Sqrt(degree[i] * degree[j]));
        var evd = laplacian.Evd(Symmetricity.Symmetric);
        int[] order = Enumerable.Range(0, n).OrderBy(c => evd.EigenValues[c].Real).ToArray();
        Assert.True(evd.EigenValues[order[3]].Real - evd.EigenValues[order[2]].Real > 1e-3, "the test graph needs an eigengap");
        for (int c = 0; c < 2; c++)
        {
            var expected = evd.EigenVectors.Column(order[c + 1]);
            double dot = 0;
            for (int i = 0; i < n; i++) dot += layout[2 * i + c] * expected[i];
            Assert.True(Math.Abs(Math.Abs(dot) - 1) <= 1e-6, $"eigenvector {c + 1}: |cos| = {Math.Abs(dot)}");
        }
    }

    [Fact]
    public void Fit_GaussianMixture_ClustersSeparateAndTrustworthy()
    {
        const int clusters = 4, per = 60, d = 10, n = clusters * per;
        var x = ProjectionData.Clusters(clusters, per, d, seed: 4);

        var result = Umap.Fit(x, n, d, new UmapOptions { Seed = 1 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(UmapInit.Random, result.Init); // four clusters 20σ apart share no neighbours
        Assert.Equal(clusters, result.Components);
        Assert.Equal(Umap.SmallEpochs, result.Epochs);
        Assert.True(Trustworthiness.Compute(x, n, d, result.Coordinates, 2, 10) >= 0.95);
        ProjectionData.AssertEachPointNearestItsClusterCentroid(result.Coordinates, clusters, per);
    }

    [Fact]
    public void Fit_ConnectedManifold_StartsSpectralAndKeepsNeighbourhoods()
    {
        // A noisy helix in 5-D: one component, so the layout starts from the Laplacian's eigenvectors.
        const int n = 400, d = 5;
        var random = new Random(8);
        var x = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            double t = 4 * Math.PI * i / n;
            double[] row = [Math.Cos(t), Math.Sin(t), t / 4, 0, 0];
            for (int j = 0; j < d; j++) x[i * d + j] = (float)(row[j] + 0.02 * ProjectionData.Normal(random));
        }

        var result = Umap.Fit(x, n, d, new UmapOptions { Epochs = 200 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(UmapInit.Spectral, result.Init);
        Assert.Equal(1, result.Components);
        double trust = Trustworthiness.Compute(x, n, d, result.Coordinates, 2, 10);
        Assert.True(trust >= 0.97, $"trustworthiness {trust}");
    }

    [Fact]
    public void Fit_OneAndTwoThreads_BitIdenticalAndSeedMatters()
    {
        const int n = 300, d = 6;
        var x = ProjectionData.Clusters(3, n / 3, d, seed: 9);
        var options = new UmapOptions { Epochs = 60, Seed = 5 };
        int saved = Threads.Count;
        try
        {
            Threads.Count = 1;
            var one = Umap.Fit(x, n, d, options, cancellationToken: TestContext.Current.CancellationToken);
            Threads.Count = 2;
            var two = Umap.Fit(x, n, d, options, cancellationToken: TestContext.Current.CancellationToken);
            var again = Umap.Fit(x, n, d, options, cancellationToken: TestContext.Current.CancellationToken);
            var other = Umap.Fit(x, n, d, options with { Seed = 6 }, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(one.Coordinates, two.Coordinates);
            Assert.Equal(one.Coordinates, again.Coordinates);
            Assert.NotEqual(one.Coordinates, other.Coordinates);
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void Fit_ProgressAndCancellation_ReportEveryEpochAndStop()
    {
        const int n = 50, d = 3;
        var x = ProjectionData.Clusters(1, n, d, seed: 3);
        var epochs = new List<int>();
        Umap.Fit(x, n, d, new UmapOptions { Epochs = 7 }, (epoch, layout) => epochs.Add(epoch), TestContext.Current.CancellationToken);
        Assert.Equal(Enumerable.Range(1, 7), epochs);

        using var cancel = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Umap.Fit(x, n, d, new UmapOptions { Epochs = 50 }, (epoch, _) => { if (epoch == 3) cancel.Cancel(); }, cancel.Token));
    }

    [Fact]
    public void Fit_DuplicatePoints_GivesFiniteSpreadLayout()
    {
        // 30 copies each of three points, plus 10 distinct ones: distances of 0 everywhere in the neighbour lists.
        const int d = 4, n = 100;
        var distinct = ProjectionData.Clusters(1, 13, d, seed: 7);
        var x = new float[n * d];
        for (int i = 0; i < n; i++) distinct.AsSpan((i < 90 ? i / 30 : i - 87) * d, d).CopyTo(x.AsSpan(i * d, d));

        var result = Umap.Fit(x, n, d, new UmapOptions { Epochs = 100 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.All(result.Coordinates, v => Assert.True(double.IsFinite(v), $"{v}"));
        Assert.True(result.Coordinates.Distinct().Count() > n, "copies stay piled on one spot");
    }

    [Fact]
    public void Fit_AllPointsEqual_GivesFiniteLayout()
    {
        const int n = 20, d = 3;
        var result = Umap.Fit(Enumerable.Repeat(0.5f, n * d).ToArray(), n, d, new UmapOptions { Neighbors = 5, Epochs = 20 },
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(result.Coordinates, v => Assert.True(double.IsFinite(v), $"{v}"));
    }

    [Fact]
    public void Fit_MoreNeighboursThanPoints_ThrowsNamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => Umap.Fit(new float[10 * 2], 10, 2, new UmapOptions { Neighbors = 11 },
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("n = 10", e.Message);
        Assert.Contains("11", e.Message);
    }

    [Fact]
    public void Fit_NaN_ThrowsNamingRowAndColumn()
    {
        var x = ProjectionData.Clusters(1, 20, 3, seed: 1);
        x[7 * 3 + 2] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => Umap.Fit(x, 20, 3, new UmapOptions { Neighbors = 5 }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("row 7, column 2", e.Message);
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(5, 1)]
    public void Fit_TooFewPointsOrBadShape_Throws(int n, int extra) =>
        Assert.Throws<ArgumentException>(() => Umap.Fit(new float[n * 3 + extra], n, 3, new UmapOptions { Neighbors = 2 },
            cancellationToken: TestContext.Current.CancellationToken));

    static UmapGraph Graph(float[] x, int n, int d, int others)
    {
        var (indices, squared) = NearestNeighbours.Search(x, n, d, others, TestContext.Current.CancellationToken);
        return UmapGraph.FromNeighbours(indices, squared.Select(Math.Sqrt).ToArray(), n, others);
    }
}
