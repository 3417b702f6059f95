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

    static Dictionary<string, string> LegendColours(XDocument svg) =>
        svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "legend").Elements(S + "circle")
            .Zip(svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "legend").Elements(S + "text"))
            .ToDictionary(p => p.Second.Value, p => (string)p.First.Attribute("fill")!);

    [Fact]
    public void Render_SameGroupNameInOtherMaps_SameColour()
    {
        var (keys, xy) = Grid(6);
        var first = XDocument.Parse(ScatterPlot.Render(keys, xy, new ScatterOptions { Groups = ["vowel", "consonant", "vowel", "BOS", "other", "consonant"] }).Svg);
        var second = XDocument.Parse(ScatterPlot.Render(keys[..3], xy.AsSpan(0, 6), new ScatterOptions { Groups = ["consonant", "vowel", null] }).Svg);
        var third = XDocument.Parse(ScatterPlot.Render(keys[..2], xy.AsSpan(0, 4), new ScatterOptions { Groups = ["vowel", "animals"] }).Svg);
        var a = LegendColours(first);
        Assert.Equal(4, a.Values.Distinct().Count()); // different groups of one map never share a colour
        Assert.Equal(a["vowel"], LegendColours(second)["vowel"]);
        Assert.Equal(a["consonant"], LegendColours(second)["consonant"]);
        Assert.Equal(a["vowel"], LegendColours(third)["vowel"]);
        Assert.Equal(Svg.GroupColours(["vowel"])["vowel"], a["vowel"]);
        // A point's colour is its group's legend colour.
        var fills = first.Descendants(S + "circle").Where(c => (string?)c.Attribute("class") == "point").Select(c => (string)c.Attribute("fill")!).ToArray();
        Assert.Equal(a["vowel"], fills[2]);
        Assert.Equal(a["BOS"], fills[3]);
    }

    [Fact]
    public void GroupColours_MoreNamesThanColours_DistinctUntilThePaletteRunsOut()
    {
        var names = Enumerable.Range(0, 12).Select(i => $"group {i}").ToArray();
        var colours = Svg.GroupColours(names);
        Assert.Equal(12, colours.Count);
        Assert.Equal(Svg.Palette.Length, colours.Values.Distinct().Count());
        Assert.Equal(colours, Svg.GroupColours(names.Reverse()));
    }

    [Fact]
    public void Render_PointsBesideTheLegend_NoLabelOverTheLegend()
    {
        // Points along the right edge of the plot box, whose labels would fall to the right: into the legend's margin.
        string[] keys = Enumerable.Range(0, 12).Select(i => $"long label {i}").ToArray();
        var xy = Enumerable.Range(0, 12).SelectMany(i => new double[] { i % 2 == 0 ? 10 : 0, i }).ToArray();
        var map = ScatterPlot.Render(keys, xy, new ScatterOptions { Groups = keys.Select(k => k.EndsWith('1') ? "one" : "rest").ToArray() });
        var svg = XDocument.Parse(map.Svg);
        var legend = svg.Descendants(S + "g").Single(g => (string?)g.Attribute("class") == "legend");
        double legendLeft = legend.Elements(S + "circle").Min(c => double.Parse((string)c.Attribute("cx")!, CultureInfo.InvariantCulture)) - 5;
        double legendBottom = legend.Elements(S + "text").Max(t => double.Parse((string)t.Attribute("y")!, CultureInfo.InvariantCulture)) + 4;
        var labels = svg.Descendants(S + "text").Where(t => (string?)t.Attribute("class") == "label").ToList();
        Assert.NotEmpty(labels);
        foreach (var label in labels)
        {
            double x = double.Parse((string)label.Attribute("x")!, CultureInfo.InvariantCulture), y = double.Parse((string)label.Attribute("y")!, CultureInfo.InvariantCulture);
            bool overLegend = x + Svg.TextWidth(label.Value, 11) > legendLeft && y - 11 < legendBottom;
            Assert.False(overLegend, $"label '{label.Value}' at ({x}, {y}) covers the legend (left {legendLeft}, bottom {legendBottom})");
        }
        var points = svg.Descendants(S + "circle").Where(c => (string?)c.Attribute("class") == "point");
        Assert.All(points, p => Assert.True(double.Parse((string)p.Attribute("cx")!, CultureInfo.InvariantCulture) + 4 < legendLeft));
    }

    [Fact]
    public void Render_AxisNames_WrittenUnderAndBesideTheMap()
    {
        var (keys, xy) = Grid(5);
        var svg = XDocument.Parse(ScatterPlot.Render(keys, xy, new ScatterOptions { XAxis = "PC1 34.8 %", YAxis = "PC2 15.0 %" }).Svg);
        Assert.Equal("PC1 34.8 %", svg.Descendants(S + "text").Single(t => (string?)t.Attribute("class") == "x-axis").Value);
        var y = svg.Descendants(S + "text").Single(t => (string?)t.Attribute("class") == "y-axis");
        Assert.Equal("PC2 15.0 %", y.Value);
        Assert.StartsWith("rotate(-90", (string)y.Attribute("transform")!);
        Assert.DoesNotContain(XDocument.Parse(ScatterPlot.Render(keys, xy).Svg).Descendants(S + "g"), g => (string?)g.Attribute("class") == "axes");
    }
}
