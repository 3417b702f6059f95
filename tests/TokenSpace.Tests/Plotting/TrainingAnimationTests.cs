using System.Text.Json;
using System.Xml.Linq;
using TokenSpace.Plotting;

namespace TokenSpace.Tests.Plotting;

public class TrainingAnimationTests
{
    static readonly XNamespace S = "http://www.w3.org/2000/svg";
    static readonly string[] Keys = ["a", "e", "b", "c", "<BOS>"];

    static MapFrame Rotated(MapFrame frame, int step, double angle, double scale, double shift) => new(step, frame.Keys,
        Enumerable.Range(0, frame.Keys.Count).SelectMany(i =>
        {
            double x = frame.Coordinates[2 * i], y = frame.Coordinates[2 * i + 1];
            return new[] { scale * (x * Math.Cos(angle) - y * Math.Sin(angle)) + shift, scale * (x * Math.Sin(angle) + y * Math.Cos(angle)) - shift };
        }).ToArray());

    static MapFrame Last() => new(300, Keys, [0, 0, 1, 0.2, 3, 3, 3.5, 2, -1, 4]);

    [Fact]
    public void AlignToLast_RotatedScaledCopies_LandOnTheLastFrame()
    {
        var last = Last();
        MapFrame[] frames = [Rotated(last, 0, 2.0, 0.01, 5), Rotated(last, 100, -0.4, 3, 1), last];

        var aligned = TrainingAnimation.AlignToLast(frames);

        Assert.Equal([0, 100, 300], aligned.Select(f => f.Step));
        foreach (var frame in aligned)
        {
            for (int t = 0; t < last.Coordinates.Length; t++) Assert.Equal(last.Coordinates[t], frame.Coordinates[t], 1e-9);
        }
    }

    [Fact]
    public void AlignToLast_OtherKeys_Throws()
    {
        var last = Last();
        var other = last with { Keys = ["a", "e", "b", "c", "d"] };
        Assert.Throws<ArgumentException>(() => TrainingAnimation.AlignToLast([other, last]));
    }

    [Fact]
    public void Write_Frames_SelfContainedPageAndOneSvgPerFrame()
    {
        string dir = Directory.CreateTempSubdirectory("tokenspace-anim").FullName;
        try
        {
            var last = Last();
            MapFrame[] frames = [Rotated(last, 0, 1.0, 1, 0), Rotated(last, 100, 0.5, 1, 0), last];
            string html = Path.Combine(dir, "training.html");

            TrainingAnimation.Write(html, frames, Path.Combine(dir, "frames"), new AnimationOptions { Groups = ["vowel", "vowel", "consonant", "consonant", "special"] });

            string page = File.ReadAllText(html);
            Assert.Contains("<input id=\"step\" type=\"range\" min=\"0\" max=\"2\"", page);
            Assert.Contains("id=\"play\"", page);
            Assert.DoesNotContain("src=", page);
            Assert.DoesNotContain("href=", page);
            int start = page.IndexOf("<svg", StringComparison.Ordinal), end = page.IndexOf("</svg>", StringComparison.Ordinal) + 6;
            var svg = XDocument.Parse(page[start..end]);
            Assert.Equal(Keys.Length, svg.Descendants(S + "circle").Count(c => (string?)c.Attribute("class") == "point"));
            Assert.Equal(Keys, svg.Descendants(S + "text").Where(t => (string?)t.Attribute("class") == "label").Select(t => t.Value));
            int data = page.IndexOf("const frames = ", StringComparison.Ordinal) + 15;
            using var json = JsonDocument.Parse(page[data..page.IndexOf(";\n", data, StringComparison.Ordinal)]);
            Assert.Equal([0, 100, 300], json.RootElement.EnumerateArray().Select(f => f.GetProperty("step").GetInt32()));
            Assert.All(json.RootElement.EnumerateArray(), f => Assert.Equal(2 * Keys.Length, f.GetProperty("xy").GetArrayLength()));
            Assert.All(json.RootElement.EnumerateArray(), f => Assert.Equal(2 * Keys.Length, f.GetProperty("labels").GetArrayLength()));

            var files = Directory.GetFiles(Path.Combine(dir, "frames")).Select(f => Path.GetFileName(f)).Order().ToArray();
            Assert.Equal(["step-000000.svg", "step-000100.svg", "step-000300.svg"], files);
            foreach (string file in files)
            {
                var frame = XDocument.Load(Path.Combine(dir, "frames", file));
                Assert.Equal(Keys.Length, frame.Descendants(S + "circle").Count(c => (string?)c.Attribute("class") == "point"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Write_FramesWithLoss_PageStartsAtStepZeroAndCarriesEachLoss()
    {
        string dir = Directory.CreateTempSubdirectory("tokenspace-anim").FullName;
        try
        {
            var last = Last() with { Loss = 1.5 };
            MapFrame[] frames = [Rotated(last, 0, 1.0, 1, 0), Rotated(last, 100, 0.5, 1, 0) with { Loss = 2.5 }, last];
            string html = Path.Combine(dir, "training.html");
            TrainingAnimation.Write(html, frames, Path.Combine(dir, "frames"));
            string page = File.ReadAllText(html);
            int data = page.IndexOf("const frames = ", StringComparison.Ordinal) + 15;
            using var json = JsonDocument.Parse(page[data..page.IndexOf(";\n", data, StringComparison.Ordinal)]);
            Assert.Equal(JsonValueKind.Null, json.RootElement[0].GetProperty("loss").ValueKind);
            Assert.Equal([2.5, 1.5], json.RootElement.EnumerateArray().Skip(1).Select(f => f.GetProperty("loss").GetDouble()));
            Assert.Contains("slider.value = 0;\ndraw(0, 0, 0);\nstart();", page.ReplaceLineEndings("\n"));
            var subtitle = XDocument.Load(Path.Combine(dir, "frames", "step-000100.svg")).Descendants(S + "text").Single(t => (string?)t.Attribute("class") == "subtitle");
            Assert.Equal("step 100 · loss 2.500 · aligned to step 300", subtitle.Value);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
