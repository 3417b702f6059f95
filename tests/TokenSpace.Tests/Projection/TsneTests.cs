using TokenSpace.Projection;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Projection;

[Collection(ProcessWideState.Name)]
public class TsneTests
{
    [Theory]
    [InlineData(TsneMethod.Exact)]
    [InlineData(TsneMethod.BarnesHut)]
    public void Fit_SeparatedClusters_StayApartAndTrustworthy(TsneMethod method)
    {
        const int clusters = 3, per = 40, d = 10, n = clusters * per;
        var x = ProjectionData.Clusters(clusters, per, d, seed: 4);

        var result = Tsne.Fit(x, n, d, new TsneOptions { Perplexity = 10, Method = method, MaxIter = 500 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(method, result.Method);
        Assert.True(Trustworthiness.Compute(x, n, d, result.Coordinates, 2, 10) >= 0.9);
        ProjectionData.AssertEachPointNearestItsClusterCentroid(result.Coordinates, clusters, per);
        Assert.True(result.KlDivergence is > 0 and < 2, $"KL {result.KlDivergence}");
    }

    [Fact]
    public void ExactGradient_TinyCase_MatchesFiniteDifferences()
    {
        const int n = 7, d = 4;
        var x = ProjectionData.Clusters(2, 4, d, seed: 5)[..(n * d)];
        double[] p = Affinities.Dense(x, n, d, perplexity: 2, TestContext.Current.CancellationToken);
        var random = new Random(6);
        var y = Enumerable.Range(0, 2 * n).Select(_ => ProjectionData.Normal(random)).ToArray();
        var grad = new double[2 * n];
        var scratch = new double[n * n];
        Tsne.ExactGradient(p, y, n, 1, grad, true, scratch);

        const double h = 1e-6;
        var unused = new double[2 * n];
        for (int t = 0; t < 2 * n; t++)
        {
            double saved = y[t];
            y[t] = saved + h;
            double plus = Tsne.ExactGradient(p, y, n, 1, unused, true, scratch);
            y[t] = saved - h;
            double minus = Tsne.ExactGradient(p, y, n, 1, unused, true, scratch);
            y[t] = saved;
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - grad[t]) <= 1e-6 * Math.Max(1, Math.Abs(grad[t])), $"[{t}]: analytic {grad[t]}, numeric {numeric}");
        }
    }

    [Theory]
    [InlineData(0.0, 1e-12)]
    [InlineData(0.5, 0.02)]
    public void BarnesHutGradient_SmallCase_CloseToExact(double theta, double tolerance)
    {
        const int n = 60, d = 5;
        var x = ProjectionData.Clusters(3, 20, d, seed: 7);
        double[] dense = Affinities.Dense(x, n, d, perplexity: 8, TestContext.Current.CancellationToken);
        var random = new Random(8);
        var y = Enumerable.Range(0, 2 * n).Select(_ => 3 * ProjectionData.Normal(random)).ToArray();
        var exact = new double[2 * n];
        double exactKl = Tsne.ExactGradient(dense, y, n, 1, exact, true, new double[n * n]);

        // The same P as a sparse matrix with every off-diagonal entry.
        var rowStart = Enumerable.Range(0, n + 1).Select(i => i * (n - 1)).ToArray();
        var columns = Enumerable.Range(0, n).SelectMany(i => Enumerable.Range(0, n).Where(j => j != i)).ToArray();
        var values = Enumerable.Range(0, n).SelectMany(i => Enumerable.Range(0, n).Where(j => j != i).Select(j => dense[i * n + j])).ToArray();
        var approximate = new double[2 * n];
        double approximateKl = Tsne.BarnesHutGradient(new Affinities.Sparse(rowStart, columns, values), y, n, theta * theta, 1, approximate, true, new QuadTree());

        double norm = Math.Sqrt(exact.Sum(g => g * g));
        double error = Math.Sqrt(exact.Zip(approximate, (a, b) => (a - b) * (a - b)).Sum());
        Assert.True(error <= tolerance * norm, $"|BH - exact| = {error}, |exact| = {norm}");
        Assert.Equal(exactKl, approximateKl, theta == 0 ? 1e-9 : 0.02);
    }

    [Fact]
    public void Conditional_AnyRow_HasTheTargetPerplexity()
    {
        const int n = 50, d = 6;
        var x = ProjectionData.Clusters(2, 25, d, seed: 9);
        var (_, squared) = NearestNeighbours.Search(x, n, d, 20, TestContext.Current.CancellationToken);

        Affinities.Conditional(squared, n, 20, perplexity: 5, skipDiagonal: false);

        for (int i = 0; i < n; i++)
        {
            var row = squared.AsSpan(i * 20, 20).ToArray();
            Assert.Equal(1, row.Sum(), 1e-12);
            double entropy = -row.Where(v => v > 0).Sum(v => v * Math.Log(v));
            Assert.Equal(Math.Log(5), entropy, 1e-4);
        }
    }

    [Fact]
    public void FromNeighbours_AnyData_SymmetricAndSumsToOne()
    {
        const int n = 40, d = 3;
        var x = ProjectionData.Clusters(2, 20, d, seed: 10);

        var p = Affinities.FromNeighbours(x, n, d, perplexity: 3, TestContext.Current.CancellationToken);

        Assert.Equal(1, p.Values.Sum(), 1e-12);
        var entries = new Dictionary<(int, int), double>();
        for (int i = 0; i < n; i++)
        {
            for (int e = p.RowStart[i]; e < p.RowStart[i + 1]; e++) entries[(i, p.Columns[e])] = p.Values[e];
        }
        foreach (var ((i, j), v) in entries) Assert.Equal(v, entries[(j, i)]);
    }

    [Fact]
    public void Fit_SameSeedAnyThreadCount_SameCoordinates()
    {
        const int n = Tsne.ExactLimit + 100, d = 5;
        var x = ProjectionData.Clusters(4, n / 4, d, seed: 11);
        var options = new TsneOptions { Perplexity = 15, MaxIter = 260, Init = TsneInit.Random, Seed = 3 };
        int saved = Threads.Count;
        try
        {
            Threads.Count = 1;
            var one = Tsne.Fit(x, n, d, options, cancellationToken: TestContext.Current.CancellationToken);
            Threads.Count = 2;
            var two = Tsne.Fit(x, n, d, options, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(TsneMethod.BarnesHut, one.Method);
            Assert.Equal(one.Coordinates, two.Coordinates);
            Assert.Equal(one.KlDivergence, two.KlDivergence);
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void Fit_PerplexityNotBelowN_Throws() =>
        Assert.Throws<ArgumentException>(() => Tsne.Fit(new float[10 * 2], 10, 2, new TsneOptions { Perplexity = 10 }, cancellationToken: TestContext.Current.CancellationToken));

    [Fact]
    public void Fit_ExactForTooManyPoints_Throws()
    {
        int n = Tsne.ExactMaxPoints + 1;
        var e = Assert.Throws<ArgumentException>(() => Tsne.Fit(new float[n], n, 1, new TsneOptions { Method = TsneMethod.Exact }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("Barnes-Hut", e.Message);
    }
}
