using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenNvr.Tests.Cloud;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Inference;

/// <summary>
/// The API reference's own example bodies (/work/shared/API.md, copied into docs as the README's first five minutes),
/// sent verbatim apart from the camera number, against a running Inference service over a real PostgreSQL database,
/// the bundled models and real images published where the Recorder publishes them (<c>frames/camera_&lt;id&gt;/</c>).
/// This fixture has no Hugging Face token, as a fresh install.
/// </summary>
public sealed class ReferenceExamplesTests(InferenceServiceFixture fixture) : IClassFixture<InferenceServiceFixture>
{
    /// <summary>The reference's cloud routing request, verbatim.</summary>
    public const string CloudExample =
        """{"task":"object_detection_detr","input_data":{"model_name":"facebook/detr-resnet-50","inputs":{"image":"opennvr://frames/camera_0/latest.jpg"},"parameters":{}}}""";

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string route, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await fixture.Client.PostAsync(route, content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task The_local_inference_example_counts_the_people_of_camera_0()
    {
        var (status, body) = await PostAsync("/infer", """{"task":"person_counting","input":{"frame":{"uri":"opennvr://frames/camera_0/latest.jpg"}}}""");

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("person_counting", body.GetProperty("task").GetString());
        Assert.InRange(body.GetProperty("count").GetInt32(), 6, 8); // vtest_0200.jpg: 7 people
        Assert.Equal(body.GetProperty("count").GetInt32(), body.GetProperty("detections").GetArrayLength());
    }

    [Fact]
    public async Task Without_a_token_the_cloud_example_is_a_503_naming_the_setting_and_the_task_is_listed_as_unavailable()
    {
        var (status, problem) = await PostAsync("/infer", CloudExample);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("object_detection_detr", detail);
        Assert.Contains("Parameters:hf-token", detail);
        Assert.Contains("HuggingFace:Token", detail);
        Assert.Contains("dotnet user-secrets set Parameters:hf-token", detail);

        // Known, listed as unavailable with the reason; not among the capabilities (what runs here).
        var tasks = await fixture.Client.GetFromJsonAsync<JsonElement>("/tasks");
        foreach (var name in new[] { "object_detection_detr", "object-detection", "image-classification", "image-to-text" })
        {
            var task = tasks.GetProperty("tasks").GetProperty(name);
            Assert.False(task.GetProperty("available").GetBoolean());
            Assert.Contains("Parameters:hf-token", task.GetProperty("unavailable_reason").GetString());
            Assert.Equal("huggingface", task.GetProperty("model_info").GetProperty("framework").GetString());
        }

        Assert.True(tasks.GetProperty("tasks").GetProperty("person_counting").GetProperty("available").GetBoolean());
        Assert.Equal(tasks.GetProperty("tasks").EnumerateObject().Count(), tasks.GetProperty("count").GetInt32());
        var capabilities = await fixture.Client.GetFromJsonAsync<JsonElement>("/capabilities");
        var offered = capabilities.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Contains("person_counting", offered);
        Assert.DoesNotContain("object_detection_detr", offered);

        // A name nobody knows is still a 400 "Unknown task".
        var (unknownStatus, unknown) = await PostAsync("/infer", CloudExample.Replace("object_detection_detr", "object_detection_dert", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, unknownStatus);
        Assert.Contains("Unknown task", unknown.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_face_registration_example_on_a_camera_frame_is_listed_by_category()
    {
        // Camera 1 shows Grace Hopper, published where the Recorder publishes it.
        Directory.CreateDirectory(Path.Combine(fixture.FramesRoot, "camera_1"));
        File.Copy(RepositoryPaths.TestData("faces", "grace_hopper_512x512.jpg"), Path.Combine(fixture.FramesRoot, "camera_1", "latest.jpg"), overwrite: true);

        var (status, registered) = await PostAsync("/faces/register",
            """{"frame":{"uri":"opennvr://frames/camera_1/latest.jpg"},"person_id":"john_doe","name":"John Doe","category":"employee","metadata":{"department":"engineering"}}""");

        Assert.True(status == HttpStatusCode.OK, registered.ToString());
        Assert.True(registered.GetProperty("success").GetBoolean());
        Assert.Equal("john_doe", registered.GetProperty("person_id").GetString());
        Assert.Equal("John Doe", registered.GetProperty("name").GetString());

        var list = await fixture.Client.GetFromJsonAsync<JsonElement>("/faces/list?category=employee");
        var face = Assert.Single(list.GetProperty("faces").EnumerateArray(), f => f.GetProperty("person_id").GetString() == "john_doe");
        Assert.Equal("John Doe", face.GetProperty("name").GetString());
        Assert.Equal("employee", face.GetProperty("category").GetString());
        Assert.Equal(list.GetProperty("faces").GetArrayLength(), list.GetProperty("total_count").GetInt32());

        // The short form names the same frame: the same person is recognised on it.
        var (recognisedStatus, recognised) = await PostAsync("/infer", """{"task":"face_recognition","input":{"frame":{"uri":"opennvr://camera_1/latest.jpg"}}}""");
        Assert.True(recognisedStatus == HttpStatusCode.OK, recognised.ToString());
        Assert.True(recognised.GetProperty("recognized").GetBoolean());
        Assert.Equal("john_doe", recognised.GetProperty("person_id").GetString());
    }
}

/// <summary>The reference's cloud example, verbatim, against the fake Hugging Face server (a token is configured).</summary>
public sealed class CloudReferenceExampleTests(CloudFixture fixture) : IClassFixture<CloudFixture>
{
    [Fact]
    public async Task The_cloud_example_is_routed_to_the_named_model_with_the_frame_of_camera_0()
    {
        using var content = new StringContent(ReferenceExamplesTests.CloudExample, Encoding.UTF8, "application/json");
        using var response = await fixture.Client.PostAsync("/infer", content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var result = JsonDocument.Parse(body).RootElement;
        Assert.Equal("object_detection_detr", result.GetProperty("task").GetString());
        Assert.Equal("facebook/detr-resnet-50", result.GetProperty("model_id").GetString());
        Assert.Equal(3, result.GetProperty("count").GetInt32());
        Assert.Equal([10, 20, 100, 200], result.GetProperty("detections")[0].GetProperty("bbox").EnumerateArray().Select(v => v.GetInt32()));
        var sent = Assert.Single(fixture.HuggingFace.RequestsFor("facebook/detr-resnet-50"));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(fixture.FramesRoot, "camera_0", "latest.jpg")), sent.Image);
    }
}
