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

    [Theory]
    [InlineData(new[] { 0.2, 1.0, 0.5 }, 0.2, 1.0, false)]
    [InlineData(new[] { -0.9, -0.1 }, -0.9, -0.1, false)]
    [InlineData(new[] { -0.25, 1.0, 0.3 }, -1.0, 1.0, true)]
    [InlineData(new[] { -2.0, 0.5 }, -2.0, 2.0, true)]
    [InlineData(new[] { 0.0, 0.7 }, 0.0, 0.7, false)]
    [InlineData(new[] { 0.5, 0.5 }, 0.0, 1.0, false)]
    public void ScaleOf_Values_SequentialOnOneSideDivergingAcrossZero(double[] values, double min, double max, bool diverging) =>
        Assert.Equal((min, max, diverging), HeatmapPlot.ScaleOf(values));

    static double[] BarTicks(XDocument svg) =>
        svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "colour-bar").Elements(S + "text").SkipLast(1)
            .Select(t => double.Parse(t.Value, CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void Render_AllPositiveCosines_SequentialScaleFromTheDataMinimum()
    {
        double[] values = [1, 0.3, 0.6, 0.3, 1, 0.45, 0.6, 0.45, 1];
        var svg = XDocument.Parse(HeatmapPlot.Render(["a", "b", "c"], ["a", "b", "c"], values));
        var ticks = BarTicks(svg);
        Assert.Equal((5, 1.0, 0.3), (ticks.Length, ticks[0], ticks[^1]));
        var cells = svg.Descendants(S + "rect").Where(r => (string?)r.Attribute("class") == "cell").Select(r => (string)r.Attribute("fill")!).ToArray();
        Assert.Equal(HeatmapPlot.Colour(HeatmapPlot.Sequential, 0.3, 0.3, 1), cells[1]);
        Assert.Equal("#f7fbff", cells[1]); // the lowest value is the lightest blue, not a pink of −1…1
        Assert.Equal("#08306b", cells[0]);
    }

    [Fact]
    public void Render_ValuesAcrossZero_DivergingAroundZero()
    {
        double[] values = [1, -0.5, -0.5, 1];
        var svg = XDocument.Parse(HeatmapPlot.Render(["a", "b"], ["a", "b"], values));
        Assert.Equal([1, 0.5, 0, -0.5, -1], BarTicks(svg));
        Assert.Equal(HeatmapPlot.Colour(HeatmapPlot.Diverging, -0.5, -1, 1), svg.Descendants(S + "rect").Where(r => (string?)r.Attribute("class") == "cell").ElementAt(1).Attribute("fill")!.Value);
    }

    [Fact]
    public void Render_SixteenRows_ValueInEveryCellSeventeenNone()
    {
        static string[] Labels(int n) => Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var values = Enumerable.Range(0, 16 * 16).Select(i => (i % 7 - 3) / 3.0).ToArray();
        var svg = XDocument.Parse(HeatmapPlot.Render(Labels(16), Labels(16), values));
        var texts = svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "values").Elements(S + "text").ToArray();
        Assert.Equal(values.Select(v => (Math.Abs(v) < 0.005 ? 0 : v).ToString("0.00", CultureInfo.InvariantCulture)), texts.Select(t => t.Value));
        Assert.Equal("white", (string)texts[6].Attribute("fill")!); // 1.00: the darkest red
        Assert.Equal("#222", (string)texts[3].Attribute("fill")!);  // 0.00: white cell
        var big = XDocument.Parse(HeatmapPlot.Render(Labels(17), Labels(17), new double[17 * 17]));
        Assert.DoesNotContain(big.Descendants(S + "g"), g => (string?)g.Attribute("class") == "values");
    }
}
