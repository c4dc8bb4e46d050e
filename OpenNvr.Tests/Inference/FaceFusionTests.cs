using System.Xml.Linq;
using OpenCvSharp;
using OpenNvr.Inference.Detection;
using OpenNvr.Inference.Faces;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Inference;

/// <summary>Counting people from bodies and faces together, with the bundled models on the bundled photos.</summary>
public sealed class FaceFusionTests(LocalModelsFixture models) : IClassFixture<LocalModelsFixture>
{
    /// <summary>Every bundled image whose number of people is beyond doubt (testdata/TESTDATA.md).</summary>
    public static readonly (string Folder, string File, int People)[] Counted =
    [
        ("persons", "vtest_0000.jpg", 3), ("persons", "vtest_0200.jpg", 7), ("persons", "vtest_0400.jpg", 3), ("persons", "vtest_0600.jpg", 6),
        ("persons", "astronaut.jpg", 1), ("persons", "grace_hopper.jpg", 1), ("persons", "basketball1.jpg", 2),
        ("faces", "Tom_Cruise_avp_2014_4.jpg", 1), ("faces", "grace_hopper_512x512.jpg", 1), ("faces", "bald_guys.jpg", 24),
        ("faces/pascal", "2007_007763.jpg", 7), ("faces/pascal", "2008_001009.jpg", 2), ("faces/pascal", "2008_001322.jpg", 3),
        ("negative", "dogs.jpg", 0),
    ];

    private (int Bodies, int Fused, IReadOnlyList<FusedPerson> People) Count(string folder, string file)
    {
        using var image = Cv2.ImRead(RepositoryPaths.TestData([.. folder.Split('/'), file]));
        var bodies = models.Models.People(image);
        var people = FaceBodyFusion.Fuse(bodies, models.Models.FacesIn(image));
        return (bodies.Count, people.Count, people);
    }

    [Fact]
    public void Fusing_faces_cuts_the_mean_count_error_on_the_bundled_images()
    {
        var rows = Counted.Select(c => (c.File, c.People, Counts: Count(c.Folder, c.File))).ToList();
        var before = rows.Average(r => Math.Abs(r.Counts.Bodies - r.People));
        var after = rows.Average(r => Math.Abs(r.Counts.Fused - r.People));
        var table = string.Join("; ", rows.Select(r => $"{r.File}: {r.People} people, bodies {r.Counts.Bodies}, fused {r.Counts.Fused}"));

        // Measured: 1.07 without, 0.21 with (the rock of two vtest frames and a framed photo in 2007_007763 remain).
        Assert.True(before >= 1.0, $"MAE without fusion {before:F2}: {table}");
        Assert.True(after <= 0.25, $"MAE with fusion {after:F2}: {table}");
        // Fusion only adds: a body is never dropped.
        Assert.All(rows, r => Assert.True(r.Counts.Fused >= r.Counts.Bodies, table));
        // On the CCTV frames faces are too small to find: fusion changes nothing there.
        Assert.All(rows.Where(r => r.File.StartsWith("vtest_", StringComparison.Ordinal)), r => Assert.Equal(r.Counts.Bodies, r.Counts.Fused));
    }

    [Theory]
    [InlineData("faces/pascal", "2007_007763.jpg")]
    [InlineData("faces/pascal", "2008_001009.jpg")]
    [InlineData("faces/pascal", "2008_001322.jpg")]
    [InlineData("faces/pascal", "2008_002079.jpg")]
    public void A_group_photo_counts_at_least_every_annotated_face(string folder, string file)
    {
        var annotated = XDocument.Load(RepositoryPaths.TestData("faces", "pascal", "faces.xml")).Descendants("image")
            .Single(i => i.Attribute("file")!.Value == file).Elements("box").Count();

        var (_, fused, people) = Count(folder, file);

        Assert.True(fused >= annotated, $"{file}: {fused} people for {annotated} annotated faces");
        Assert.True(people.Count(p => p.Face is not null) >= annotated - 1, $"{file}: faces used {people.Count(p => p.Face is not null)}");
    }

    [Fact]
    public void A_mother_whose_daughter_stands_behind_her_is_two_people_though_one_body_box_holds_both()
    {
        // 2008_001009: the body detector boxes the pair once; the daughter's face is above that box.
        var (bodies, fused, people) = Count("faces/pascal", "2008_001009.jpg");

        Assert.Equal(1, bodies);
        Assert.Equal(2, fused);
        Assert.Equal([PersonSource.Body, PersonSource.Face], people.Select(p => p.Source));
        Assert.NotNull(people[0].Face);
    }

    [Fact]
    public void A_player_cut_by_the_frame_is_found_by_his_face()
    {
        // basketball1: the right-hand player, cut by the frame edge, scores under the person threshold.
        var (bodies, fused, people) = Count("persons", "basketball1.jpg");

        Assert.Equal(1, bodies);
        Assert.Equal(2, fused);
        var face = Assert.Single(people, p => p.Source == PersonSource.Face);
        Assert.True(face.X1 > 320, $"the face person should be the right-hand player: {face}");
    }

    private static DetectedObject Body(float x1, float y1, float x2, float y2, float score = 0.6f) => new(CocoLabels.Person, "person", score, x1, y1, x2, y2);

    private static DetectedFace Face(float x1, float y1, float x2, float y2, float score = 0.95f) => new(x1, y1, x2, y2, score);

    [Fact]
    public void Each_body_takes_one_face_and_the_one_nearest_its_head_position()
    {
        // One box around two people side by side: two faces at the top; the one nearer the centre goes with the box.
        var people = FaceBodyFusion.Fuse([Body(100, 100, 200, 400)], [Face(105, 110, 135, 145), Face(140, 105, 170, 140, 0.8f)]);

        Assert.Equal(2, people.Count);
        Assert.Equal(140, people[0].Face!.X1);
        Assert.Equal((PersonSource.Face, 105f), (people[1].Source, people[1].X1));
    }

    [Theory]
    [InlineData(160, 20, 190, 50, true)]    // well above the box: someone behind
    [InlineData(130, 330, 160, 360, true)]  // low in the box: a child in front, not this person's head
    [InlineData(215, 120, 245, 150, true)]  // beside the box
    [InlineData(60, 100, 300, 350, true)]   // wider than the box: not its head
    [InlineData(140, 95, 170, 125, false)]  // just over the top edge: its head
    [InlineData(192, 120, 222, 150, false)] // centre within the 10 % side slack
    public void Faces_outside_a_boxs_head_band_are_people_of_their_own(float x1, float y1, float x2, float y2, bool separate)
    {
        var people = FaceBodyFusion.Fuse([Body(100, 100, 200, 400)], [Face(x1, y1, x2, y2)]);

        Assert.Equal(separate ? 2 : 1, people.Count);
        Assert.Equal(separate, people[0].Face is null);
    }

    [Fact]
    public void Without_faces_the_bodies_are_the_people_in_their_order()
    {
        var people = FaceBodyFusion.Fuse([Body(0, 0, 10, 30, 0.9f), Body(50, 0, 60, 30, 0.5f)], []);

        Assert.Equal([0.9f, 0.5f], people.Select(p => p.Confidence));
        Assert.All(people, p => Assert.Equal(PersonSource.Body, p.Source));
        Assert.Equal([50, 0, 10, 30], people[1].ToLtwh());
    }
}

/// <summary>One set of in-process models per test class.</summary>
public sealed class LocalModelsFixture : IDisposable
{
    public LocalModels Models { get; } = new();

    public void Dispose() => Models.Dispose();
}
