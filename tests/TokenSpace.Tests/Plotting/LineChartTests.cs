using System.Globalization;
using System.Xml.Linq;
using TokenSpace.Plotting;

namespace TokenSpace.Tests.Plotting;

public class LineChartTests
{
    static readonly XNamespace S = "http://www.w3.org/2000/svg";

    [Fact]
    public void Render_TwoPanels_DrawsEveryKnownPointWithItsValue()
    {
        double[] x = [0, 10, 20];
        var panels = new[]
        {
            new LinePanel("loss", [new LineSeries("train", x, [null, 2.5, 2.0])]),
            new LinePanel("overlap", [new LineSeries("wte", x, [0.2, 0.6, 1.0]), new LineSeries("wpe", x, [0.5, 0.9, 1.0])], 0, 1),
        };

        var svg = XDocument.Parse(LineChart.Render(panels, new LineChartOptions { Title = "t <&>" }));

        var points = svg.Descendants(S + "circle").Where(c => (string?)c.Attribute("class") == "point").ToList();
        Assert.Equal(8, points.Count);
        Assert.Equal([2.5, 2.0, 0.2, 0.6, 1.0, 0.5, 0.9, 1.0], points.Select(p => double.Parse((string)p.Attribute("data-y")!, CultureInfo.InvariantCulture)));
        Assert.Equal(["train", "wte", "wpe"], svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "legend").Descendants(S + "text").Select(t => t.Value));
        Assert.Equal(2, svg.Descendants(S + "g").Count(g => (string?)g.Attribute("class") == "panel"));
        Assert.Equal("t <&>", svg.Descendants(S + "text").First(t => (string?)t.Attribute("class") == "title").Value);
    }

    [Fact]
    public void Render_SeriesOfUnequalLengths_Throws() =>
        Assert.Throws<ArgumentException>(() => LineChart.Render([new LinePanel("p", [new LineSeries("s", [0, 1], [1])])]));

    [Fact]
    public void Render_OneConstantPoint_StillHasAUsableRange()
    {
        var svg = XDocument.Parse(LineChart.Render([new LinePanel("p", [new LineSeries("s", [5], [3])])]));
        var point = svg.Descendants(S + "circle").Single();
        Assert.True(double.IsFinite(double.Parse((string)point.Attribute("cx")!, CultureInfo.InvariantCulture)));
        Assert.True(double.IsFinite(double.Parse((string)point.Attribute("cy")!, CultureInfo.InvariantCulture)));
    }
}
