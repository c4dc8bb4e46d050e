using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Contracts;
using OpenNvr.Contracts.Inference;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Tests.Infrastructure;
using Refit;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// Registration with the photo in the request body (multipart/form-data), as Core sends a console upload or an event
/// snapshot: through the Refit client against the real Inference (real models, real PostgreSQL), from a file that is
/// under no frames root, and every malformed part refused with a problem that names it.
/// </summary>
public sealed class FacePhotoUploadTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    [Fact]
    public async Task A_photo_in_the_body_registers_an_identity_that_a_published_frame_is_then_recognised_as()
    {
        var inference = RestService.ForGenerated<IInferenceApi>(fixture.Client, ContractJson.RefitSettings());
        var personId = "upload-" + Guid.NewGuid().ToString("N")[..8];
        var photo = await File.ReadAllBytesAsync(RepositoryPaths.TestData("persons", "grace_hopper.jpg"));

        using (var registered = await inference.RegisterFacePhotoAsync(new ByteArrayPart(photo, "photo.jpg", "image/jpeg"), personId, "Grace Hopper", "vip",
                   """{"event_id":42}""", CancellationToken.None))
        {
            var text = await registered.Content.ReadAsStringAsync();
            Assert.True(registered.StatusCode == HttpStatusCode.OK, text);
            var answer = JsonSerializer.Deserialize<FaceRegisterResponse>(text, ContractJson.Options)!;
            Assert.Equal((true, personId, "Grace Hopper", "vip", 1, "created"),
                (answer.Success, answer.PersonId, answer.Name, answer.Category, answer.EmbeddingCount, answer.Outcome));
        }

        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            var stored = await scope.ServiceProvider.GetRequiredService<InferenceDbContext>().FaceIdentities.AsNoTracking()
                .Include(i => i.Embeddings).SingleAsync(i => i.PersonId == personId);
            Assert.Equal(42, JsonDocument.Parse(stored.Metadata!).RootElement.GetProperty("event_id").GetInt32());
            Assert.StartsWith("upload:sha256:", stored.Embeddings.Single().SourceUri);
            Assert.Equal(512, stored.Embeddings.Single().Vector.Length);
        }

        // Another photo of her, published as a frame, is recognised as the uploaded identity.
        var recognised = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("faces", "grace_hopper_512x512.jpg") });
        Assert.True(recognised.GetProperty("recognized").GetBoolean(), recognised.GetRawText());
        Assert.Equal(personId, recognised.GetProperty("person_id").GetString());
        using var deleted = await inference.DeleteFaceAsync(personId, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
    }

    public static TheoryData<string, HttpStatusCode, string> BadForms => new()
    {
        { "no-image", HttpStatusCode.BadRequest, "image is required" },
        { "not-an-image", HttpStatusCode.UnsupportedMediaType, "not a JPEG or PNG" },
        { "no-person", HttpStatusCode.BadRequest, "person_id is required" },
        { "bad-person", HttpStatusCode.BadRequest, "person_id '../x' is not valid" },
        { "bad-category", HttpStatusCode.BadRequest, "category 'friends' is not one of" },
        { "bad-metadata", HttpStatusCode.BadRequest, "metadata must be the text of a JSON object" },
        { "array-metadata", HttpStatusCode.BadRequest, "metadata must be a JSON object" },
        { "bad-replace", HttpStatusCode.BadRequest, "replace must be true or false" },
        { "no-face", HttpStatusCode.UnprocessableEntity, "No face was found" },
    };

    [Theory]
    [MemberData(nameof(BadForms))]
    public async Task Malformed_photo_forms_are_problems_that_say_what_is_wrong(string kind, HttpStatusCode status, string expected)
    {
        var face = await File.ReadAllBytesAsync(RepositoryPaths.TestData("persons", "grace_hopper.jpg"));
        var fields = new Dictionary<string, string> { ["person_id"] = "bad-form", ["name"] = "Bad Form" };
        byte[]? image = face;
        switch (kind)
        {
            case "no-image": image = null; break;
            case "not-an-image": image = "hello, not a picture"u8.ToArray(); break;
            case "no-person": fields.Remove("person_id"); break;
            case "bad-person": fields["person_id"] = "../x"; break;
            case "bad-category": fields["category"] = "friends"; break;
            case "bad-metadata": fields["metadata"] = "{not json"; break;
            case "array-metadata": fields["metadata"] = "[1,2]"; break;
            case "bad-replace": fields["replace"] = "maybe"; break;
            case "no-face": image = await File.ReadAllBytesAsync(RepositoryPaths.TestData("negative", "dogs.jpg")); break;
        }

        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        if (image is not null)
        {
            var part = new ByteArrayContent(image);
            part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            form.Add(part, "image", "photo.jpg");
        }

        using var response = await fixture.Client.PostAsync("/faces/register", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<InferenceDbContext>().FaceIdentities.AnyAsync(i => i.PersonId == "bad-form"));
    }
}
