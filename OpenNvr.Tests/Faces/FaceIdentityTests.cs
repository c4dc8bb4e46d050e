using System.Text.Json;
using Xunit.Abstractions;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// Identity on real faces: the four men of bald_guys.jpg (six photos each) and the two crops of Grace Hopper's
/// portrait. Measured with the bundled models over all pairs of the 24 cut-outs: same person 0.44 or more, different
/// people 0.37 or less, so the default threshold 0.40 separates them (narrowly).
/// </summary>
public sealed class FaceIdentityTests(FacesFixture fixture, ITestOutputHelper output) : IClassFixture<FacesFixture>
{
    [Fact]
    public async Task One_registered_photo_per_man_recognises_every_other_photo_as_the_right_man()
    {
        // The first photo of each man is registered; the other 20 must each come back as that man.
        foreach (var person in BaldGuys.People)
        {
            var (status, body) = await FacesFixture.RegisterAsync(fixture.Client, new
            {
                frame = FacesFixture.Frame("bald", $"{person}_0.jpg"),
                person_id = "bald-" + person,
                name = person,
                category = "employee",
            });
            Assert.True(status == 200, body.GetRawText());
        }

        var failures = new List<string>();
        for (var i = 0; i < BaldGuys.Faces.Length; i++)
        {
            var file = BaldGuys.FileOf(i);
            if (file.EndsWith("_0.jpg", StringComparison.Ordinal))
            {
                continue;
            }

            var result = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("bald", file) });
            if (!result.GetProperty("recognized").GetBoolean() || result.GetProperty("person_id").GetString() != "bald-" + BaldGuys.Faces[i].Person)
            {
                failures.Add($"{file}: {result.GetRawText()}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Face_verify_separates_same_from_different_men_at_the_default_threshold()
    {
        // Every photo against the next one in the list and against the photo six places on (the next man):
        // 23 + 18 pairs, 20 of them the same man.
        var pairs = new List<(int A, int B)>();
        for (var i = 0; i + 1 < BaldGuys.Faces.Length; i++)
        {
            pairs.Add((i, i + 1));
        }

        for (var i = 0; i + 6 < BaldGuys.Faces.Length; i++)
        {
            pairs.Add((i, i + 6));
        }

        var errors = new List<string>();
        var same = new List<double>();
        var different = new List<double>();
        foreach (var (a, b) in pairs)
        {
            var result = await fixture.InferAsync("face_verify", new
            {
                frame1 = FacesFixture.Frame("bald", BaldGuys.FileOf(a)),
                frame2 = FacesFixture.Frame("bald", BaldGuys.FileOf(b)),
            });
            var expected = BaldGuys.Faces[a].Person == BaldGuys.Faces[b].Person;
            var similarity = result.GetProperty("similarity").GetDouble();
            (expected ? same : different).Add(similarity);
            if (result.GetProperty("is_same_person").GetBoolean() != expected)
            {
                errors.Add($"{BaldGuys.FileOf(a)} vs {BaldGuys.FileOf(b)}: similarity {similarity}, expected same={expected}");
            }

            Assert.Equal(0.40, result.GetProperty("threshold").GetDouble(), 3);
            Assert.Equal(4, result.GetProperty("face1_bbox").GetArrayLength());
            Assert.Equal(4, result.GetProperty("face2_bbox").GetArrayLength());
        }

        output.WriteLine($"same man {same.Count} pairs: {same.Min():F3}-{same.Max():F3}; different men {different.Count} pairs: {different.Min():F3}-{different.Max():F3}");
        Assert.True(same.Count >= 15 && different.Count >= 15, $"{same.Count} same, {different.Count} different pairs");
        Assert.True(errors.Count == 0, string.Join("\n", errors) + $"\nsame {same.Min():F3}-{same.Max():F3}, different {different.Min():F3}-{different.Max():F3}");
    }

    [Fact]
    public async Task All_276_pairs_of_the_24_photos_fall_on_the_right_side_of_the_default_threshold()
    {
        // face_verify compares the same embeddings by the same cosine; 24 embeddings give every pair cheaply.
        var embeddings = new List<float[]>();
        for (var i = 0; i < BaldGuys.Faces.Length; i++)
        {
            var result = await fixture.InferAsync("face_embedding", new { frame = FacesFixture.Frame("bald", BaldGuys.FileOf(i)) });
            embeddings.Add([.. result.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle())]);
        }

        var errors = new List<string>();
        double minSame = 1, maxDifferent = -1;
        for (var a = 0; a < embeddings.Count; a++)
        {
            for (var b = a + 1; b < embeddings.Count; b++)
            {
                var similarity = embeddings[a].Zip(embeddings[b], (x, y) => (double)x * y).Sum();
                var same = BaldGuys.Faces[a].Person == BaldGuys.Faces[b].Person;
                if (same)
                {
                    minSame = Math.Min(minSame, similarity);
                }
                else
                {
                    maxDifferent = Math.Max(maxDifferent, similarity);
                }

                if (same != similarity >= 0.40)
                {
                    errors.Add($"{BaldGuys.FileOf(a)} vs {BaldGuys.FileOf(b)}: {similarity:F3}");
                }
            }
        }

        output.WriteLine($"all pairs: same man at least {minSame:F3}, different men at most {maxDifferent:F3}");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task The_two_crops_of_Grace_Hoppers_portrait_are_the_same_person_and_not_Tom_Cruise()
    {
        var same = await fixture.InferAsync("face_verify", new
        {
            frame1 = FacesFixture.Frame("persons", "grace_hopper.jpg"),
            frame2 = FacesFixture.Frame("faces", "grace_hopper_512x512.jpg"),
        });
        var different = await fixture.InferAsync("face_verify", new
        {
            frame1 = FacesFixture.Frame("persons", "grace_hopper.jpg"),
            frame2 = FacesFixture.Frame("faces", "Tom_Cruise_avp_2014_4.jpg"),
        });

        output.WriteLine($"Grace Hopper pair {same.GetProperty("similarity").GetDouble()}, Grace Hopper vs Tom Cruise {different.GetProperty("similarity").GetDouble()}");
        Assert.True(same.GetProperty("is_same_person").GetBoolean(), same.GetRawText());
        Assert.False(different.GetProperty("is_same_person").GetBoolean(), different.GetRawText());
        Assert.True(same.GetProperty("similarity").GetDouble() > different.GetProperty("similarity").GetDouble() + 0.3);
    }

    [Fact]
    public async Task Face_embedding_is_a_unit_vector_of_512_and_identical_frames_give_identical_vectors()
    {
        var first = await fixture.InferAsync("face_embedding", new { frame = FacesFixture.Frame("faces", "Tom_Cruise_avp_2014_4.jpg") });
        var again = await fixture.InferAsync("face_embedding", new { frame = FacesFixture.Frame("faces", "Tom_Cruise_avp_2014_4.jpg") });

        var vector = first.GetProperty("embedding").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(512, vector.Length);
        Assert.Equal(512, first.GetProperty("embedding_size").GetInt32());
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => v * v)), 3);
        Assert.Equal(first.GetProperty("embedding").GetRawText(), again.GetProperty("embedding").GetRawText());
        var box = first.GetProperty("face_bbox").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(box[0] < box[2] && box[1] < box[3] && box[2] <= 565 && box[3] <= 800, string.Join(",", box));
    }
}
