using System.Globalization;
using System.Xml.Linq;
using TokenSpace.Plotting;

namespace TokenSpace.Tests.Plotting;

public class ScatterPlotTests
{
    static readonly XNamespace S = "http://www.w3.org/2000/svg";

    static (string[] Keys, double[] Xy) Grid(int n)
    {
        var keys = Enumerable.Range(0, n).Select(i => $"w{i}").ToArray();
        var xy = Enumerable.Range(0, n).SelectMany(i => new double[] { i % 10, i / 10 }).ToArray();
        return (keys, xy);
    }

    [Fact]
    public void Render_AwkwardKeys_ValidXmlWithOneMarkAndOneLabelPerPoint()
    {
        string[] keys = ["<b>", "a&b", "\"quoted\"", "it's", "\u0001ctl", " ", "naïve", "日本"];
        var xy = keys.SelectMany((_, i) => new double[] { Math.Cos(i), Math.Sin(i) * 2 }).ToArray();

        var map = ScatterPlot.Render(keys, xy, new ScatterOptions { Title = "T <&>" });

        var svg = XDocument.Parse(map.Svg);
        var points = svg.Descendants(S + "circle").Where(c => (string?)c.Attribute("class") == "point").ToList();
        var labels = svg.Descendants(S + "text").Where(t => (string?)t.Attribute("class") == "label").ToList();
        Assert.Equal(keys.Length, points.Count);
        Assert.Equal(keys.Length, map.LabelsPlaced);
        Assert.Equal(0, map.LabelsDropped);
        Assert.Equal(keys.Length, labels.Count);
        Assert.Equal(["<b>", "a&b", "\"quoted\"", "it's", "\\u{1}ctl", "\u2423", "naïve", "日本"], labels.Select(l => l.Value));
        Assert.Equal("T <&>", svg.Descendants(S + "text").First(t => (string?)t.Attribute("class") == "title").Value);
    }

    [Fact]
    public void Render_CrowdedPoints_DropsLabelsAndNoneOverlap()
    {
        var (keys, xy) = Grid(400);

        var map = ScatterPlot.Render(keys, xy, new ScatterOptions { Width = 300, Height = 300, FontSize = 14 });

        Assert.True(map.LabelsDropped > 0);
        Assert.Equal(400, map.LabelsPlaced + map.LabelsDropped);
        var boxes = XDocument.Parse(map.Svg).Descendants(S + "text").Where(t => (string?)t.Attribute("class") == "label").Select(t =>
        {
            double x = double.Parse((string)t.Attribute("x")!, CultureInfo.InvariantCulture), y = double.Parse((string)t.Attribute("y")!, CultureInfo.InvariantCulture);
            return (X0: x, Y0: y - 0.78 * 14, X1: x + Svg.TextWidth(t.Value, 14), Y1: y + 0.24 * 14);
        }).ToList();
        Assert.Equal(map.LabelsPlaced, boxes.Count);
        for (int a = 0; a < boxes.Count; a++)
        {
            for (int b = a + 1; b < boxes.Count; b++)
            {
                bool overlap = boxes[a].X0 < boxes[b].X1 - 0.01 && boxes[b].X0 < boxes[a].X1 - 0.01 && boxes[a].Y0 < boxes[b].Y1 - 0.01 && boxes[b].Y0 < boxes[a].Y1 - 0.01;
                Assert.False(overlap, $"labels {a} and {b} overlap");
            }
        }
    }

    [Fact]
    public void Render_Groups_ColoursPointsAndListsEachGroupOnce()
    {
        var (keys, xy) = Grid(6);
        string?[] groups = ["vowel", "consonant", "vowel", null, "consonant", "vowel"];

        var svg = XDocument.Parse(ScatterPlot.Render(keys, xy, new ScatterOptions { Groups = groups }).Svg);

        var legend = svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "legend");
        Assert.Equal(["vowel", "consonant"], legend.Descendants(S + "text").Select(t => t.Value));
        var fills = svg.Descendants(S + "circle").Where(c => (string?)c.Attribute("class") == "point").Select(c => (string)c.Attribute("fill")!).ToList();
        Assert.Equal(fills[0], fills[2]);
        Assert.Equal(fills[1], fills[4]);
        Assert.NotEqual(fills[0], fills[1]);
        Assert.Equal(Svg.Ungrouped, fills[3]);
    }

    [Fact]
    public void Render_NoLabels_OnlyTooltips()
    {
        var (keys, xy) = Grid(12);
        var map = ScatterPlot.Render(keys, xy, new ScatterOptions { Labels = false });
        var svg = XDocument.Parse(map.Svg);
        Assert.DoesNotContain(svg.Descendants(S + "text"), t => (string?)t.Attribute("class") == "label");
        Assert.Equal(keys, svg.Descendants(S + "circle").Select(c => c.Element(S + "title")!.Value));
    }

    [Fact]
    public void Render_MismatchedSizes_Throws() =>
        Assert.Throws<ArgumentException>(() => ScatterPlot.Render(["a", "b"], new double[6]));

    [Fact]
    public void Write_AnyMap_WritesTheFileAndNoTemporary()
    {
        string dir = Directory.CreateTempSubdirectory("tokenspace-maps").FullName;
        try
        {
            var (keys, xy) = Grid(5);
            string path = Path.Combine(dir, "sub", "map.svg");
            var map = ScatterPlot.Write(path, keys, xy);
            Assert.Equal(map.Svg, File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(Path.Combine(dir, "sub")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
