using System.Text.Json;
using TokenSpace.Evaluation;
using TokenSpace.Projection;
using TokenSpace.Tensors;

namespace TokenSpace.Tests.Evaluation;

[Collection(ProcessWideState.Name)]
public class FormationTests
{
    static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(TestData.Golden("formation_golden.json"))).RootElement;

    static float[] Floats(JsonElement c, string name) => c.GetProperty(name).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    [Theory]
    [InlineData("tall")]
    [InlineData("wide")]
    public void Disparity_GoldenPair_MatchesScipyProcrustes(string name)
    {
        var c = Golden.GetProperty(name);
        double d = Procrustes.Disparity(Floats(c, "a"), Floats(c, "b"), c.GetProperty("d").GetInt32());

        Assert.Equal(c.GetProperty("disparity").GetDouble(), d, 1e-9);
    }

    [Fact]
    public void Disparity_RotatedScaledShiftedCopy_IsZero()
    {
        var c = Golden.GetProperty("wide");
        var a = Floats(c, "a");
        var b = a.Select((v, i) => i % 20 == 3 ? -2 * v + 1 : 2 * v - 5).ToArray(); // a mirror is orthogonal too

        Assert.Equal(0, Procrustes.Disparity(a, b, 20), 1e-6);
    }

    [Theory]
    [InlineData("tall", "a")]
    [InlineData("tall", "b")]
    [InlineData("wide", "a")]
    [InlineData("wide", "b")]
    public void EffectiveRank_GoldenMatrix_MatchesNumpy(string name, string matrix)
    {
        var c = Golden.GetProperty(name);
        double rank = Formation.EffectiveRank(Floats(c, matrix), c.GetProperty("d").GetInt32());

        Assert.Equal(c.GetProperty("effective_rank_" + matrix).GetDouble(), rank, 1e-9);
    }

    [Fact]
    public void EffectiveRank_RankOneMatrix_IsOne()
    {
        var x = Enumerable.Range(0, 5 * 4).Select(i => (float)((i / 4 + 1) * (i % 4 - 1.5))).ToArray();

        Assert.Equal(1, Formation.EffectiveRank(x, 4), 1e-6);
    }

    [Fact]
    public void Silhouette_GoldenGroups_MatchesScikitLearn()
    {
        var c = Golden.GetProperty("tall");
        var groups = c.GetProperty("groups").EnumerateArray().Select(g => g.ValueKind == JsonValueKind.Null ? null : g.GetString()).ToArray();

        double? s = Formation.Silhouette(Floats(c, "b"), 8, groups);

        Assert.Equal(c.GetProperty("silhouette_b").GetDouble(), s!.Value, 1e-9);
    }

    [Fact]
    public void Silhouette_OneGroup_IsNull() =>
        Assert.Null(Formation.Silhouette(new float[] { 1, 0, 0, 1, 1, 1 }, 2, ["a", "a", null]));

    [Fact]
    public void Anisotropy_FewPairs_IsTheMeanOverAllPairs()
    {
        var c = Golden.GetProperty("tall");

        Assert.Equal(c.GetProperty("anisotropy_b").GetDouble(), Formation.Anisotropy(Floats(c, "b"), 8, 10_000, 1), 1e-9);
    }

    [Fact]
    public void Anisotropy_SampledPairs_EstimatesTheMean()
    {
        var c = Golden.GetProperty("tall");
        var b = Floats(c, "b");
        double sampled = Formation.Anisotropy(b, 8, 400, 7);

        Assert.Equal(c.GetProperty("anisotropy_b").GetDouble(), sampled, 0.05);
        Assert.Equal(sampled, Formation.Anisotropy(b, 8, 400, 7));
        Assert.NotEqual(sampled, Formation.Anisotropy(b, 8, 400, 8));
    }

    /// <summary>Five frames of 6 tokens in 3-D: tokens move toward their final places, token 5 only at the last frame.</summary>
    static List<FormationFrame> Frames()
    {
        var final = new float[] { 1, 0, 0, 0.9f, 0.1f, 0, 0, 1, 0, 0.1f, 0.9f, 0, 0, 0, 1, -1, -1, 0.2f };
        var start = new float[] { 0, 0, 1, 0.1f, 0.9f, 0, 1, 0, 0, 0, 1, 0.1f, 0.9f, 0, 0.1f, 0.5f, 0.5f, 0.5f };
        var frames = new List<FormationFrame>();
        for (int f = 0; f < 5; f++)
        {
            double t = f / 4.0;
            var wte = start.Select((s, i) => (float)(i >= 15 && f < 4 ? s : s + t * (final[i] - s))).ToArray();
            var wpe = start.Select((s, i) => (float)(s * (1 + f))).ToArray();
            frames.Add(new FormationFrame(f * 10, wte, wpe, 3, f == 0 ? null : 4.0 - f));
        }
        return frames;
    }

    [Fact]
    public void Measure_Frames_LastFrameMatchesItselfAndSettledIsMonotone()
    {
        var frames = Frames();
        string?[] groups = ["x", "x", "y", "y", null, null];

        var report = Formation.Measure(frames, groups, new FormationOptions { Neighbours = 2 });

        var last = report.Steps[^1];
        Assert.Equal(0, last.Wte.DisparityToFinal!.Value, 1e-9);
        Assert.Equal(1, last.Wte.OverlapWithFinal);
        Assert.Equal(1, last.Wte.Settled);
        Assert.Null(report.Steps[0].Wte.DisparityToPrevious);
        Assert.Null(report.Steps[0].Loss);
        Assert.Equal(3, report.Steps[1].Loss);
        Assert.Equal(40, report.WteSettled[5]);
        Assert.All(report.WteSettled, s => Assert.Contains(s, frames.Select(f => f.Step)));
        for (int f = 1; f < frames.Count; f++) Assert.True(report.Steps[f].Wte.Settled >= report.Steps[f - 1].Wte.Settled);
        Assert.Equal(Formation.Silhouette(frames[^1].Wte, 3, groups), last.Wte.Silhouette);
        // wpe only grows: the same shape up to scale in every frame, so nothing to align and every neighbour kept.
        Assert.All(report.Steps, s => Assert.Equal(0, s.Wpe!.DisparityToFinal!.Value, 1e-9));
        Assert.All(report.WpeSettled!, s => Assert.Equal(0, s));
    }

    [Fact]
    public void Measure_Settled_IsTheFirstStepFromWhichTheOverlapStaysHigh()
    {
        // Token 0's nearest neighbour (k = 1) in frames 0..3 is token 1, 2, 1, 1, as in the last: it settles at frame 2.
        float[] a = [1, 0, 1, 0.1f, 0.1f, 1, -1, 0], b = [1, 0, 0.1f, 1, 1, 0.05f, -1, 0];
        var frames = new List<FormationFrame> { new(0, a, null, 2), new(1, b, null, 2), new(2, a, null, 2), new(3, a, null, 2) };
        var report = Formation.Measure(frames, null, new FormationOptions { Neighbours = 1 });

        Assert.Equal(2, report.WteSettled[0]);
        Assert.Null(report.WpeSettled);
        Assert.All(report.Steps, s => Assert.Null(s.Wpe));
    }

    [Fact]
    public void Measure_AnyThreadCount_GivesIdenticalReports()
    {
        var frames = Enumerable.Range(0, 6).Select(f =>
        {
            var rng = new Rng((ulong)f + 1);
            var wte = new float[70 * 16];
            rng.FillGaussian(wte, 0, 1);
            var wpe = new float[40 * 16];
            rng.FillGaussian(wpe, 0, 1);
            return new FormationFrame(f * 5, wte, wpe, 16, f);
        }).ToList();
        int saved = Threads.Count;
        try
        {
            Threads.Count = 1;
            string one = JsonSerializer.Serialize(Formation.Measure(frames));
            Threads.Count = 3;
            string three = JsonSerializer.Serialize(Formation.Measure(frames));
            Assert.Equal(one, three);
        }
        finally
        {
            Threads.Count = saved;
        }
    }

    [Fact]
    public void Next_TwoFrames_AgreesWithMeasureOnWhatItKnows()
    {
        var frames = Frames();
        var full = Formation.Measure(frames[..3]);

        var live = Formation.Next(frames[1], frames[2]);

        Assert.Equal(full.Steps[2].Wte.DisparityToPrevious, live.Wte.DisparityToPrevious);
        Assert.Equal(full.Steps[2].Wte.OverlapWithPrevious, live.Wte.OverlapWithPrevious);
        Assert.Equal(full.Steps[2].Wpe!.EffectiveRank, live.Wpe!.EffectiveRank);
        Assert.Null(live.Wte.DisparityToFinal);
        Assert.Null(live.Wte.Settled);
        Assert.Null(Formation.Next(null, frames[0]).Wte.OverlapWithPrevious);
    }

    [Fact]
    public void Measure_FramesOfOtherShapesOrOrder_Throw()
    {
        var frames = Frames();
        Assert.Throws<ArgumentException>(() => Formation.Measure([]));
        Assert.Throws<ArgumentException>(() => Formation.Measure([frames[1], frames[0]]));
        Assert.Throws<ArgumentException>(() => Formation.Measure([frames[0], frames[1] with { Wpe = null }]));
        Assert.Throws<ArgumentException>(() => Formation.Measure([frames[0]], ["x"]));
    }

    [Fact]
    public void PositionBands_RowsRotatingByAFixedAngle_GiveTheCosineOfTheAngleTimesTheDistance()
    {
        // Row i = (cos iθ, sin iθ): rows d apart have cosine cos dθ, whatever i.
        const double theta = 0.3;
        var wpe = Enumerable.Range(0, 8).SelectMany(i => new[] { (float)Math.Cos(i * theta), (float)Math.Sin(i * theta) }).ToArray();

        var band = Formation.PositionBands(wpe, 2);

        Assert.Equal(8, band.Length);
        for (int d = 0; d < 8; d++) Assert.Equal(Math.Cos(d * theta), band[d], 1e-6);
    }
}
