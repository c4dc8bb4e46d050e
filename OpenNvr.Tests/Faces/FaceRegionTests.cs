using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenNvr.Tests.Core;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// <c>input.region</c> of the face tasks (what the Recorder sends for one tracked person): the collage of
/// bald_guys.jpg holds 24 faces; a region around one of them answers for that face, in collage pixels, where the
/// whole collage answers for its largest face. Malformed regions are 400 problems naming the field.
/// </summary>
public sealed class FaceRegionTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    [Fact]
    public async Task A_region_around_one_face_of_the_collage_recognises_that_man_with_his_box_in_collage_pixels()
    {
        foreach (var person in BaldGuys.People)
        {
            // Registered from the first cut-out of each man (name = the man, as FaceIdentityTests registers them too).
            var (status, body) = await FacesFixture.RegisterAsync(fixture.Client, new
            {
                frame = FacesFixture.Frame("bald", $"{person}_0.jpg"), person_id = "region-" + person, name = person, category = "employee",
            });
            Assert.True(status == 200, body.GetRawText());
        }

        var whole = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("faces", "bald_guys.jpg") });
        var wholeBox = whole.TryGetProperty("face_bbox", out var b) ? Box(b) : default;
        var differentFromWhole = 0;
        // The second photo of each man (not the registered one).
        foreach (var index in new[] { 1, 7, 13, 19 })
        {
            var (person, x1, y1, x2, y2) = BaldGuys.Faces[index];
            var (mx, my) = ((x2 - x1) / 3, (y2 - y1) / 3);
            double[] region = [x1 - mx, y1 - my, x2 + mx, y2 + my];
            var answer = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("faces", "bald_guys.jpg"), region });

            Assert.True(answer.GetProperty("recognized").GetBoolean(), $"face {index}: {answer.GetRawText()}");
            Assert.Equal(person, answer.GetProperty("name").GetString());
            var face = Box(answer.GetProperty("face_bbox"));
            // In collage pixels: the annotated face, not a box at the region's origin.
            Assert.True(IoU(face, (x1, y1, x2, y2)) > 0.3, $"face {index}: {face} against the annotated ({x1}, {y1}, {x2}, {y2})");
            differentFromWhole += IoU(face, wholeBox) < 0.5 ? 1 : 0;
        }

        Assert.True(differentFromWhole >= 3, "the whole collage answers for one face only");
    }

    [Theory]
    [InlineData("[1, 2, 3]", "input.region must be [x1, y1, x2, y2]")]
    [InlineData("\"0,0,10,10\"", "input.region must be [x1, y1, x2, y2]")]
    [InlineData("[0, 0, \"10\", 10]", "item 2 is a string")]
    [InlineData("[50, 0, 10, 10]", "is empty")]
    [InlineData("[5000, 5000, 6000, 6000]", "lies outside the frame")]
    public async Task A_malformed_region_is_a_400_problem_naming_it(string region, string expected)
    {
        var input = JsonDocument.Parse($$"""{"frame":{"uri":"opennvr://frames/faces/bald_guys.jpg"},"region":{{region}}}""").RootElement;
        using var response = await fixture.Client.PostAsJsonAsync("/infer", new { task = "face_recognition", input });

        var detail = await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
    }

    private static (double X1, double Y1, double X2, double Y2) Box(JsonElement xyxy) =>
        (xyxy[0].GetDouble(), xyxy[1].GetDouble(), xyxy[2].GetDouble(), xyxy[3].GetDouble());

    private static double IoU((double X1, double Y1, double X2, double Y2) a, (double X1, double Y1, double X2, double Y2) b)
    {
        var w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1);
        var h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        var i = w * h;
        return i / ((a.X2 - a.X1) * (a.Y2 - a.Y1) + (b.X2 - b.X1) * (b.Y2 - b.Y1) - i);
    }
}
