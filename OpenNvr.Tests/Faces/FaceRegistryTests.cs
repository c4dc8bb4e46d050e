using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Inference.Infrastructure;

namespace OpenNvr.Tests.Faces;

/// <summary>The /faces routes over a real database: validation, conflicts, photos added, deletion, categories.</summary>
public sealed class FaceRegistryTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    private HttpClient Client => fixture.Client;

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { "{", "not valid JSON" },
        { "[]", "must be a JSON object" },
        { "{\"person_id\":\"p1\",\"name\":\"A\"}", "frame is required" },
        { "{\"frame\":\"opennvr://frames/faces/x.jpg\",\"person_id\":\"p1\",\"name\":\"A\"}", "frame must be an object" },
        { "{\"frame\":{\"uri\":7},\"person_id\":\"p1\",\"name\":\"A\"}", "frame.uri must be a string" },
        { "{\"frame\":{\"uri\":\"http://example.org/a.jpg\"},\"person_id\":\"p1\",\"name\":\"A\"}", "scheme 'http' is not supported" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/../etc/passwd\"},\"person_id\":\"p1\",\"name\":\"A\"}", "does not name a frame" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"name\":\"A\"}", "person_id is required" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"has space\",\"name\":\"A\"}", "person_id 'has space' is not valid" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"a/b\",\"name\":\"A\"}", "is not valid" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"" + new string('a', 65) + "\",\"name\":\"A\"}", "is not valid" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":12,\"name\":\"A\"}", "person_id must be a string" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"list\",\"name\":\"A\"}", "person_id 'list' is reserved" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"p1\"}", "name is required" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"p1\",\"name\":\"   \"}", "name must not be empty" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"p1\",\"name\":\"" + new string('n', 201) + "\"}", "name is 201 characters long; at most 200" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"p1\",\"name\":\"A\",\"category\":\"friends\"}", "category 'friends' is not one of employee, visitor, watchlist, vip, unknown" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"p1\",\"name\":\"A\",\"category\":3}", "category must be a string" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"p1\",\"name\":\"A\",\"metadata\":[1]}", "metadata must be a JSON object" },
        { "{\"frame\":{\"uri\":\"opennvr://frames/faces/grace_hopper_512x512.jpg\"},\"person_id\":\"p1\",\"name\":\"A\",\"replace\":\"yes\"}", "replace must be true or false" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_registrations_are_400_problems_that_say_what_is_wrong(string body, string expected)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/faces/register", content);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, expected);
        Assert.Null(await FindIdentityAsync("p1"));
    }

    [Fact]
    public async Task Oversized_metadata_and_bodies_and_non_json_are_refused()
    {
        var big = new { frame = FacesFixture.Frame("faces", "grace_hopper_512x512.jpg"), person_id = "p1", name = "A", metadata = new { notes = new string('x', 5000) } };
        using var metadataResponse = await Client.PostAsJsonAsync("/faces/register", big);
        await AssertProblemAsync(metadataResponse, HttpStatusCode.BadRequest, "metadata is larger than 4096 bytes");

        using var huge = new StringContent(new string(' ', 20_000) + "{}", Encoding.UTF8, "application/json");
        using var hugeResponse = await Client.PostAsync("/faces/register", huge);
        await AssertProblemAsync(hugeResponse, HttpStatusCode.RequestEntityTooLarge, "exceeds");

        using var text = new StringContent("person_id=p1", Encoding.UTF8, "text/plain");
        using var textResponse = await Client.PostAsync("/faces/register", text);
        await AssertProblemAsync(textResponse, HttpStatusCode.UnsupportedMediaType, "must be JSON");
    }

    [Fact]
    public async Task A_frame_without_a_face_or_with_several_is_a_422_that_says_which()
    {
        var (noFaceStatus, noFace) = await FacesFixture.RegisterAsync(Client, new { frame = FacesFixture.Frame("negative", "dogs.jpg"), person_id = "dog", name = "Rex" });
        var (severalStatus, several) = await FacesFixture.RegisterAsync(Client, new { frame = FacesFixture.Frame("pascal", "2007_007763.jpg"), person_id = "group", name = "Family" });
        var (missingStatus, missing) = await FacesFixture.RegisterAsync(Client, new { frame = FacesFixture.Frame("faces", "nobody.jpg"), person_id = "nobody", name = "Nobody" });

        Assert.Equal(422, noFaceStatus);
        Assert.Contains("No face was found", noFace.GetProperty("detail").GetString());
        Assert.Equal(422, severalStatus);
        Assert.Contains("shows 7 faces; registration needs exactly one", several.GetProperty("detail").GetString());
        Assert.Equal(404, missingStatus);
        Assert.Contains("nobody.jpg", missing.GetProperty("detail").GetString());
        Assert.Null(await FindIdentityAsync("dog"));
        Assert.Null(await FindIdentityAsync("group"));
    }

    [Fact]
    public async Task Registering_again_adds_a_photo_a_different_name_conflicts_and_replace_starts_again()
    {
        var first = await RegisterOkAsync("bald", "vin_0.jpg", "reg-vin", "Vin Diesel", "vip", new { team = "cast", badge = 7 });
        Assert.Equal("created", first.GetProperty("outcome").GetString());
        Assert.Equal(1, first.GetProperty("embedding_count").GetInt32());
        Assert.True(first.GetProperty("success").GetBoolean());
        Assert.Equal("Vin Diesel", first.GetProperty("name").GetString());

        var second = await RegisterOkAsync("bald", "vin_2.jpg", "reg-vin", "Vin Diesel", "vip");
        Assert.Equal("added", second.GetProperty("outcome").GetString());
        Assert.Equal(2, second.GetProperty("embedding_count").GetInt32());

        var (conflictStatus, conflict) = await FacesFixture.RegisterAsync(Client, new
        {
            frame = FacesFixture.Frame("bald", "jason_0.jpg"), person_id = "reg-vin", name = "Jason Statham", category = "vip",
        });
        Assert.Equal(409, conflictStatus);
        Assert.Contains("already registered as 'Vin Diesel', not 'Jason Statham'", conflict.GetProperty("detail").GetString());

        using var get = await Client.GetAsync("/faces/reg-vin");
        var identity = JsonDocument.Parse(await get.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("Vin Diesel", identity.GetProperty("name").GetString());
        Assert.Equal("vip", identity.GetProperty("category").GetString());
        Assert.Equal(2, identity.GetProperty("embedding_count").GetInt32());
        Assert.Equal(7, identity.GetProperty("metadata").GetProperty("badge").GetInt32());

        var replaced = await RegisterOkAsync("bald", "jason_0.jpg", "reg-vin", "Jason Statham", "visitor", replace: true);
        Assert.Equal("replaced", replaced.GetProperty("outcome").GetString());
        Assert.Equal(1, replaced.GetProperty("embedding_count").GetInt32());

        // The rows in PostgreSQL say the same.
        var stored = await FindIdentityAsync("reg-vin");
        Assert.NotNull(stored);
        Assert.Equal("Jason Statham", stored.Name);
        Assert.Equal("visitor", stored.Category);
        Assert.Single(stored.Embeddings);
        Assert.Equal(512, stored.Embeddings[0].Vector.Length);
        Assert.Equal("bundled/fr_feature.onnx", stored.Embeddings[0].Model);
        Assert.Equal("opennvr://frames/bald/jason_0.jpg", stored.Embeddings[0].SourceUri);

        // And recognition follows: a photo of Jason is now this identity.
        var recognised = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("bald", "jason_3.jpg") });
        Assert.True(recognised.GetProperty("recognized").GetBoolean(), recognised.GetRawText());
        Assert.Equal("reg-vin", recognised.GetProperty("person_id").GetString());
        Assert.Equal("Jason Statham", recognised.GetProperty("name").GetString());
        Assert.Equal("visitor", recognised.GetProperty("category").GetString());
    }

    [Fact]
    public async Task List_filters_by_category_and_delete_forgets_the_person_everywhere()
    {
        await RegisterOkAsync("bald", "bruce_0.jpg", "list-bruce", "Bruce Willis", "watchlist");
        await RegisterOkAsync("bald", "dwayne_0.jpg", "list-dwayne", "Dwayne Johnson", "employee");

        var watchlist = await GetJsonAsync("/faces/list?category=watchlist");
        var all = await GetJsonAsync("/faces/list");
        Assert.Contains(watchlist.GetProperty("faces").EnumerateArray(), f => f.GetProperty("person_id").GetString() == "list-bruce");
        Assert.DoesNotContain(watchlist.GetProperty("faces").EnumerateArray(), f => f.GetProperty("person_id").GetString() == "list-dwayne");
        Assert.All(watchlist.GetProperty("faces").EnumerateArray(), f => Assert.Equal("watchlist", f.GetProperty("category").GetString()));
        Assert.Equal(watchlist.GetProperty("faces").GetArrayLength(), watchlist.GetProperty("total_count").GetInt32());
        Assert.True(all.GetProperty("total_count").GetInt32() >= 2);

        using var badCategory = await Client.GetAsync("/faces/list?category=nope");
        await AssertProblemAsync(badCategory, HttpStatusCode.BadRequest, "category 'nope' is not one of");

        // Bruce is on the watchlist, Dwayne is not.
        var bruce = await fixture.InferAsync("watchlist_check", new { frame = FacesFixture.Frame("bald", "bruce_4.jpg") });
        Assert.True(bruce.GetProperty("is_on_watchlist").GetBoolean(), bruce.GetRawText());
        var match = Assert.Single(bruce.GetProperty("matches").EnumerateArray());
        Assert.Equal("list-bruce", match.GetProperty("person_id").GetString());
        Assert.Equal("watchlist", match.GetProperty("category").GetString());
        Assert.Equal(4, bruce.GetProperty("face_bbox").GetArrayLength());
        var dwayne = await fixture.InferAsync("watchlist_check", new { frame = FacesFixture.Frame("bald", "dwayne_3.jpg") });
        Assert.False(dwayne.GetProperty("is_on_watchlist").GetBoolean(), dwayne.GetRawText());
        Assert.Equal(0, dwayne.GetProperty("matches").GetArrayLength());
        var dogs = await fixture.InferAsync("watchlist_check", new { frame = FacesFixture.Frame("negative", "dogs.jpg") });
        Assert.False(dogs.GetProperty("is_on_watchlist").GetBoolean());
        Assert.Equal(JsonValueKind.Null, dogs.GetProperty("face_bbox").ValueKind);

        using var delete = await Client.DeleteAsync("/faces/list-bruce");
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.True(JsonDocument.Parse(await delete.Content.ReadAsStringAsync()).RootElement.GetProperty("success").GetBoolean());
        Assert.Null(await FindIdentityAsync("list-bruce"));
        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
            Assert.Equal(0, await db.FaceEmbeddings.CountAsync(e => e.PersonId == "list-bruce"));
        }

        var after = await fixture.InferAsync("watchlist_check", new { frame = FacesFixture.Frame("bald", "bruce_4.jpg") });
        Assert.False(after.GetProperty("is_on_watchlist").GetBoolean(), after.GetRawText());
        var recognition = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("bald", "bruce_4.jpg") });
        Assert.NotEqual("list-bruce", recognition.TryGetProperty("person_id", out var id) ? id.GetString() : null);

        using var again = await Client.DeleteAsync("/faces/list-bruce");
        await AssertProblemAsync(again, HttpStatusCode.NotFound, "No face identity is registered with person_id 'list-bruce'");
    }

    [Theory]
    [InlineData("GET", "/faces/nobody-here", HttpStatusCode.NotFound, "person_id 'nobody-here'")]
    [InlineData("DELETE", "/faces/nobody-here", HttpStatusCode.NotFound, "person_id 'nobody-here'")]
    [InlineData("GET", "/faces/bad%20id", HttpStatusCode.BadRequest, "is not valid")]
    [InlineData("DELETE", "/faces/bad.id", HttpStatusCode.BadRequest, "is not valid")]
    public async Task Unknown_or_malformed_ids_are_problems(string method, string path, HttpStatusCode status, string expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await Client.SendAsync(request);

        await AssertProblemAsync(response, status, expected);
    }

    [Fact]
    public async Task Recognition_without_a_face_or_below_the_threshold_says_so_and_thresholds_are_validated()
    {
        await RegisterOkAsync("bald", "dwayne_0.jpg", "thr-dwayne", "Dwayne Johnson", "employee");

        var dogs = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("negative", "dogs.jpg") });
        Assert.False(dogs.GetProperty("recognized").GetBoolean());
        Assert.Contains("No face", dogs.GetProperty("message").GetString());
        Assert.False(dogs.TryGetProperty("person_id", out _));

        var strict = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("bald", "dwayne_2.jpg"), threshold = 0.99 });
        Assert.False(strict.GetProperty("recognized").GetBoolean(), strict.GetRawText());
        Assert.Contains("0.99", strict.GetProperty("message").GetString());

        var lenient = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("bald", "dwayne_2.jpg"), threshold = 0.3 });
        Assert.True(lenient.GetProperty("recognized").GetBoolean(), lenient.GetRawText());
        Assert.InRange(lenient.GetProperty("similarity").GetDouble(), 0.3, 1.0);

        foreach (var threshold in new object[] { 0, -0.5, 1.5, "high" })
        {
            using var response = await Client.PostAsJsonAsync("/infer", new { task = "face_recognition", input = new { frame = FacesFixture.Frame("bald", "dwayne_2.jpg"), threshold } });
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "input.threshold");
        }

        using var noFrame2 = await Client.PostAsJsonAsync("/infer", new { task = "face_verify", input = new { frame1 = FacesFixture.Frame("bald", "dwayne_2.jpg") } });
        await AssertProblemAsync(noFrame2, HttpStatusCode.BadRequest, "input.frame2 is required");
        using var faceless = await Client.PostAsJsonAsync("/infer", new { task = "face_verify", input = new { frame1 = FacesFixture.Frame("bald", "dwayne_2.jpg"), frame2 = FacesFixture.Frame("negative", "dogs.jpg") } });
        await AssertProblemAsync(faceless, HttpStatusCode.UnprocessableEntity, "No face was found in input.frame2");
        using var noEmbedding = await Client.PostAsJsonAsync("/infer", new { task = "face_embedding", input = new { frame = FacesFixture.Frame("negative", "dogs.jpg") } });
        await AssertProblemAsync(noEmbedding, HttpStatusCode.UnprocessableEntity, "No face was found in input.frame");
    }

    private async Task<JsonElement> RegisterOkAsync(string camera, string file, string personId, string name, string category, object? metadata = null, bool replace = false)
    {
        var (status, body) = await FacesFixture.RegisterAsync(Client, new
        {
            frame = FacesFixture.Frame(camera, file), person_id = personId, name, category, metadata, replace,
        });
        Assert.True(status == 200, body.GetRawText());
        Assert.Equal(personId, body.GetProperty("person_id").GetString());
        return body;
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<FaceIdentity?> FindIdentityAsync(string personId)
    {
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
        return await db.FaceIdentities.AsNoTracking().Include(i => i.Embeddings).FirstOrDefaultAsync(i => i.PersonId == personId);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString();
        Assert.Contains(expected, detail);
    }
}
