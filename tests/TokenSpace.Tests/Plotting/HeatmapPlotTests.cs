using System.Globalization;
using System.Xml.Linq;
using TokenSpace.Plotting;

namespace TokenSpace.Tests.Plotting;

public class HeatmapPlotTests
{
    static readonly XNamespace S = "http://www.w3.org/2000/svg";

    [Fact]
    public void Render_CosineOfTokens_OneCellPerPairHoldingTheCosine()
    {
        const int n = 5, d = 3;
        float[] m = [1, 0, 0, 0, 2, 0, 1, 1, 0, -3, 0.5f, 2, 0, 0, 0];
        string[] keys = ["a", "b", "a<b", "c", "zero"];

        var svg = XDocument.Parse(HeatmapPlot.Render(keys, keys, HeatmapPlot.CosineSimilarity(m, n, d)));

        var cells = svg.Descendants(S + "rect").Where(r => (string?)r.Attribute("class") == "cell").ToList();
        Assert.Equal(n * n, cells.Count);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double dot = 0, ni = 0, nj = 0;
                for (int k = 0; k < d; k++)
                {
                    dot += m[i * d + k] * m[j * d + k];
                    ni += m[i * d + k] * m[i * d + k];
                    nj += m[j * d + k] * m[j * d + k];
                }
                double expected = ni == 0 || nj == 0 ? 0 : dot / Math.Sqrt(ni * nj);
                double shown = double.Parse((string)cells[i * n + j].Attribute("data-value")!, CultureInfo.InvariantCulture);
                Assert.Equal(expected, shown, 1e-12);
            }
        }
        Assert.Equal(keys, svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "row-labels").Elements(S + "text").Select(t => t.Value));
        Assert.Equal(keys, svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "column-labels").Elements(S + "text").Select(t => t.Value));
    }

    [Fact]
    public void Render_ManyPositions_ThinsLabelsButKeepsEveryCell()
    {
        const int n = 200, d = 4;
        var random = new Random(1);
        var m = Enumerable.Range(0, n * d).Select(_ => (float)random.NextDouble()).ToArray();
        var labels = Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

        var svg = XDocument.Parse(HeatmapPlot.Render(labels, labels, HeatmapPlot.CosineSimilarity(m, n, d)));

        Assert.Equal(n * n, svg.Descendants(S + "rect").Count(r => (string?)r.Attribute("class") == "cell"));
        int shown = svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "row-labels").Elements().Count();
        Assert.InRange(shown, 10, n / 2);
    }

    [Theory]
    [InlineData(-1.0, "#053061")]
    [InlineData(0.0, "#f7f7f7")]
    [InlineData(1.0, "#67001f")]
    [InlineData(7.0, "#67001f")]
    public void Colour_EndsAndMiddle_AreTheScaleStops(double value, string expected) =>
        Assert.Equal(expected, HeatmapPlot.Colour(HeatmapPlot.Diverging, value, -1, 1));

    [Fact]
    public void Render_WrongValueCount_Throws() =>
        Assert.Throws<ArgumentException>(() => HeatmapPlot.Render(["a"], ["a", "b"], new double[3]));
}
