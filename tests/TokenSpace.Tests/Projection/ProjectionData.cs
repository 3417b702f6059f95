using System.Text.Json;

namespace TokenSpace.Tests.Projection;

/// <summary>Inputs shared by the projection tests: planted clusters and the scikit-learn golden files.</summary>
static class ProjectionData
{
    /// <summary><paramref name="clusters"/> Gaussian blobs (σ = 1) of <paramref name="perCluster"/> points in d-D, centres 20 apart on the axes; rows grouped by cluster.</summary>
    public static float[] Clusters(int clusters, int perCluster, int d, int seed)
    {
        var random = new Random(seed);
        var x = new float[clusters * perCluster * d];
        for (int c = 0; c < clusters; c++)
        {
            for (int p = 0; p < perCluster; p++)
            {
                int row = c * perCluster + p;
                for (int j = 0; j < d; j++) x[row * d + j] = (float)((j == c ? 20 : 0) + Normal(random));
            }
        }
        return x;
    }

    public static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static JsonElement Golden(string section, string file = "projection_golden.json")
    {
        string path = TestData.Golden(file);
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty(section);
    }

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    /// <summary>Every point of a map of <see cref="Clusters"/>, <c>(n, dims)</c>, lies nearer its own cluster's centroid than any other.</summary>
    public static void AssertEachPointNearestItsClusterCentroid(double[] coordinates, int clusters, int per, int dims = 2)
    {
        int n = clusters * per;
        var centroids = new double[clusters * dims];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < dims; k++) centroids[i / per * dims + k] += coordinates[dims * i + k] / per;
        }
        for (int i = 0; i < n; i++)
        {
            int nearest = Enumerable.Range(0, clusters).MinBy(c =>
                Enumerable.Range(0, dims).Sum(k => Math.Pow(coordinates[dims * i + k] - centroids[dims * c + k], 2)));
            Assert.Equal(i / per, nearest);
        }
    }
}
