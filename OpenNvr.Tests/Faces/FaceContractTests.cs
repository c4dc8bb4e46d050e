using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Json.Schema;

namespace OpenNvr.Tests.Faces;

/// <summary>The face tasks as clients see them: listed, schema-valid real responses, the X-API-Key rule on /faces.</summary>
public sealed class FaceContractTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    private static readonly string[] FaceTasks = ["face_detection", "face_embedding", "face_recognition", "face_verify", "watchlist_check"];

    [Fact]
    public async Task The_face_tasks_are_offered_with_their_models()
    {
        var capabilities = JsonDocument.Parse(await fixture.Client.GetStringAsync("/capabilities")).RootElement;
        var tasks = JsonDocument.Parse(await fixture.Client.GetStringAsync("/tasks")).RootElement.GetProperty("tasks");

        var names = capabilities.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.All(FaceTasks, t => Assert.Contains(t, names));
        Assert.Equal("fr_detect.onnx+fr_landmark.onnx+fr_age.onnx+fr_gender.onnx",
            tasks.GetProperty("face_detection").GetProperty("model_info").GetProperty("model").GetString());
        Assert.Equal("fr_detect.onnx+fr_landmark.onnx+fr_feature.onnx",
            tasks.GetProperty("face_verify").GetProperty("model_info").GetProperty("model").GetString());
    }

    public static TheoryData<string, string> Requests => new()
    {
        { "face_detection", """{"frame":{"uri":"opennvr://frames/pascal/2008_001322.jpg"}}""" },
        { "face_detection", """{"frame":{"uri":"opennvr://frames/negative/dogs.jpg"}}""" },
        { "face_embedding", """{"frame":{"uri":"opennvr://frames/faces/Tom_Cruise_avp_2014_4.jpg"}}""" },
        { "face_recognition", """{"frame":{"uri":"opennvr://frames/bald/vin_3.jpg"}}""" },
        { "face_recognition", """{"frame":{"uri":"opennvr://frames/negative/dogs.jpg"}}""" },
        { "face_verify", """{"frame1":{"uri":"opennvr://frames/bald/vin_3.jpg"},"frame2":{"uri":"opennvr://frames/bald/vin_4.jpg"}}""" },
        { "watchlist_check", """{"frame":{"uri":"opennvr://frames/bald/vin_3.jpg"}}""" },
        { "watchlist_check", """{"frame":{"uri":"opennvr://frames/negative/dogs.jpg"}}""" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Real_responses_validate_against_their_served_schema(string task, string input)
    {
        await EnsureVinIsOnTheWatchlistAsync();
        var schema = JsonSchema.FromText(await fixture.Client.GetStringAsync($"/schema?task={task}"));
        var response = await fixture.InferAsync(task, JsonDocument.Parse(input).RootElement);

        var result = schema.Evaluate(response, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{task} response {response} does not match its schema");
        Assert.True(response.GetProperty("latency_ms").GetDouble() > 0);
    }

    [Fact]
    public async Task The_faces_routes_require_the_api_key_when_one_is_configured()
    {
        var secured = fixture.StartInstance(("Inference:ApiKey", "face-secret"));
        using var client = secured.CreateClient();
        var registration = new { frame = FacesFixture.Frame("bald", "vin_0.jpg"), person_id = "key-vin", name = "Vin" };

        using var list = await client.GetAsync("/faces/list");
        using var get = await client.GetAsync("/faces/key-vin");
        using var delete = await client.DeleteAsync("/faces/key-vin");
        using var register = await client.PostAsJsonAsync("/faces/register", registration);
        Assert.All(new[] { list, get, delete, register }, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        Assert.Contains("X-API-Key", await register.Content.ReadAsStringAsync());

        client.DefaultRequestHeaders.Add("X-API-Key", "face-secret");
        using var allowed = await client.PostAsJsonAsync("/faces/register", registration);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        using var listed = await client.GetAsync("/faces/list");
        Assert.Contains("key-vin", await listed.Content.ReadAsStringAsync());
    }

    private async Task EnsureVinIsOnTheWatchlistAsync()
    {
        var (status, body) = await FacesFixture.RegisterAsync(fixture.Client, new
        {
            frame = FacesFixture.Frame("bald", "vin_0.jpg"), person_id = "schema-vin", name = "Vin Diesel", category = "watchlist", replace = true,
        });
        Assert.True(status == 200, body.GetRawText());
    }
}
