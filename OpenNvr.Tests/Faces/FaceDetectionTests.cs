using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Faces;

/// <summary>face_detection with the bundled models on real photos with annotated faces.</summary>
public sealed class FaceDetectionTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    [Fact]
    public async Task Pascal_group_photos_find_at_least_90_percent_of_annotated_faces_with_at_most_one_false_face_each()
    {
        // faces.xml is dlib imglab's format: <box top left width height>.
        var annotations = XDocument.Load(RepositoryPaths.TestData("faces", "pascal", "faces.xml")).Descendants("image").ToList();
        Assert.Equal(4, annotations.Count);
        int annotated = 0, matched = 0;
        var report = new List<string>();
        foreach (var image in annotations)
        {
            var file = image.Attribute("file")!.Value;
            var truth = image.Elements("box").Select(b => Box(
                Number(b, "left"), Number(b, "top"), Number(b, "left") + Number(b, "width"), Number(b, "top") + Number(b, "height"))).ToList();
            var result = await fixture.InferAsync("face_detection", new { frame = FacesFixture.Frame("pascal", file) });
            var found = result.GetProperty("faces").EnumerateArray().Select(f => Box(f.GetProperty("bbox"))).ToList();

            // Greedy one-to-one matching, best overlap first.
            var pairs = (from t in Enumerable.Range(0, truth.Count)
                         from d in Enumerable.Range(0, found.Count)
                         let iou = Iou(truth[t], found[d])
                         where iou >= 0.3
                         orderby iou descending
                         select (t, d)).ToList();
            var usedTruth = new HashSet<int>();
            var usedFound = new HashSet<int>();
            foreach (var (t, d) in pairs)
            {
                if (!usedTruth.Contains(t) && !usedFound.Contains(d))
                {
                    usedTruth.Add(t);
                    usedFound.Add(d);
                }
            }

            var falseFaces = found.Count - usedFound.Count;
            annotated += truth.Count;
            matched += usedTruth.Count;
            report.Add($"{file}: {usedTruth.Count}/{truth.Count} matched, {falseFaces} false");
            Assert.True(falseFaces <= 1, string.Join("; ", report));
            Assert.Equal(found.Count, result.GetProperty("face_count").GetInt32());
        }

        Assert.Equal(18, annotated);
        Assert.True(matched >= 0.9 * annotated, string.Join("; ", report));
    }

    [Fact]
    public async Task Four_dogs_are_no_faces()
    {
        var result = await fixture.InferAsync("face_detection", new { frame = FacesFixture.Frame("negative", "dogs.jpg") });

        Assert.Equal(0, result.GetProperty("face_count").GetInt32());
        Assert.Equal(0, result.GetProperty("faces").GetArrayLength());
        Assert.True(result.GetProperty("executed_at").GetInt64() > 1_700_000_000_000);
    }

    [Theory]
    [InlineData("persons", "grace_hopper.jpg")]
    [InlineData("persons", "astronaut.jpg")]
    [InlineData("faces", "Tom_Cruise_avp_2014_4.jpg")]
    [InlineData("faces", "grace_hopper_512x512.jpg")]
    public async Task A_portrait_has_one_face_with_five_landmarks_in_place_an_age_and_a_gender(string camera, string file)
    {
        var result = await fixture.InferAsync("face_detection", new { frame = FacesFixture.Frame(camera, file) });

        Assert.Equal(1, result.GetProperty("face_count").GetInt32());
        var face = result.GetProperty("faces")[0];
        var (x1, y1, x2, y2) = Box(face.GetProperty("bbox"));
        Assert.True(x2 - x1 > 50 && y2 - y1 > 50, $"box {x1},{y1},{x2},{y2}");
        Assert.InRange(face.GetProperty("confidence").GetDouble(), 0.7, 1.0);
        var points = face.GetProperty("landmarks").EnumerateArray()
            .Select(p => (X: p[0].GetDouble(), Y: p[1].GetDouble())).ToArray();
        Assert.Equal(5, points.Length);
        foreach (var (x, y) in points)
        {
            Assert.True(x >= x1 && x <= x2 && y >= y1 && y <= y2, $"landmark {x},{y} outside the face box");
        }

        // Anatomy, not numbers: eyes above the nose, nose above the mouth, left before right.
        Assert.True(points[0].X < points[1].X && points[3].X < points[4].X);
        Assert.True(Math.Max(points[0].Y, points[1].Y) < points[2].Y);
        Assert.True(points[2].Y < Math.Min(points[3].Y, points[4].Y));
        Assert.InRange(face.GetProperty("age").GetInt32(), 1, 100);
        Assert.Contains(face.GetProperty("gender").GetString(), new[] { "M", "F" });
    }

    [Fact]
    public async Task The_age_model_tells_Grace_Hopper_in_her_seventies_from_Tom_Cruise()
    {
        // Measured with the SSR-Net model: Grace Hopper (photographed at 78) 68 and 74 on the two crops, Tom
        // Cruise (52 in 2014) 37. The model is weak (see BENCHMARKS.md); this pins the one gap it does see.
        var hopper = await fixture.InferAsync("face_detection", new { frame = FacesFixture.Frame("persons", "grace_hopper.jpg") });
        var cruise = await fixture.InferAsync("face_detection", new { frame = FacesFixture.Frame("faces", "Tom_Cruise_avp_2014_4.jpg") });

        var hopperAge = hopper.GetProperty("faces")[0].GetProperty("age").GetInt32();
        var cruiseAge = cruise.GetProperty("faces")[0].GetProperty("age").GetInt32();
        Assert.True(hopperAge >= 55 && hopperAge > cruiseAge + 15, $"Hopper {hopperAge}, Cruise {cruiseAge}");
    }

    [Fact]
    public async Task The_collage_of_bald_guys_has_all_24_faces_where_the_annotation_puts_them()
    {
        Directory.CreateDirectory(Path.Combine(fixture.FramesRoot, "collage"));
        var target = Path.Combine(fixture.FramesRoot, "collage", "bald_guys.jpg");
        if (!File.Exists(target))
        {
            File.Copy(RepositoryPaths.TestData("faces", "bald_guys.jpg"), target);
        }

        var result = await fixture.InferAsync("face_detection", new { frame = FacesFixture.Frame("collage", "bald_guys.jpg") });

        var found = result.GetProperty("faces").EnumerateArray().Select(f => Box(f.GetProperty("bbox"))).ToList();
        Assert.Equal(24, found.Count);
        foreach (var (person, x1, y1, x2, y2) in BaldGuys.Faces)
        {
            Assert.Contains(found, f => Iou(f, (x1, y1, x2, y2)) > 0.8);
        }
    }

    [Fact]
    public async Task In_every_photo_cut_out_of_the_collage_the_largest_face_is_the_annotated_one()
    {
        var extra = new List<string>();
        for (var i = 0; i < BaldGuys.Faces.Length; i++)
        {
            var (_, x1, y1, x2, y2) = BaldGuys.Faces[i];
            var (left, top) = BaldGuys.CropOrigin(i);
            var result = await fixture.InferAsync("face_detection", new { frame = FacesFixture.Frame("bald", BaldGuys.FileOf(i)) });
            var faces = result.GetProperty("faces").EnumerateArray().Select(f => Box(f.GetProperty("bbox"))).ToList();
            Assert.True(faces.Count >= 1, $"{BaldGuys.FileOf(i)}: no face");
            var largest = faces.OrderByDescending(f => (f.X2 - f.X1) * (f.Y2 - f.Y1)).First();
            Assert.True(Iou(largest, (x1 - left, y1 - top, x2 - left, y2 - top)) > 0.5, $"{BaldGuys.FileOf(i)}: {result.GetRawText()}");
            if (faces.Count > 1)
            {
                extra.Add($"{BaldGuys.FileOf(i)}: {result.GetRawText()}");
            }
        }

        // Measured: an ear in vin_1 and a fragment of the large photo beside dwayne_1 score just above 0.7.
        Assert.True(extra.Count <= 2, string.Join("\n", extra));
    }

    private static double Number(XElement box, string name) => double.Parse(box.Attribute(name)!.Value, CultureInfo.InvariantCulture);

    private static (double X1, double Y1, double X2, double Y2) Box(double x1, double y1, double x2, double y2) => (x1, y1, x2, y2);

    private static (double X1, double Y1, double X2, double Y2) Box(JsonElement bbox) =>
        (bbox[0].GetDouble(), bbox[1].GetDouble(), bbox[2].GetDouble(), bbox[3].GetDouble());

    private static double Iou((double X1, double Y1, double X2, double Y2) a, (double X1, double Y1, double X2, double Y2) b)
    {
        var w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1);
        var h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        var intersection = w * h;
        return intersection / ((a.X2 - a.X1) * (a.Y2 - a.Y1) + (b.X2 - b.X1) * (b.Y2 - b.Y1) - intersection);
    }
}
