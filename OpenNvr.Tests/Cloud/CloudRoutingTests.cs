using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using OpenNvr.Tests.Inference;

namespace OpenNvr.Tests.Cloud;

/// <summary>
/// <c>POST /infer</c> with <c>input_data</c> through the real service, its Refit client and resilience pipeline, to a
/// fake Hugging Face on Kestrel: normalised replies, the exact bytes and token sent, and each failure's status with
/// the number of attempts the fake saw.
/// </summary>
public sealed partial class CloudRoutingTests(CloudFixture fixture) : IClassFixture<CloudFixture>
{
    private FakeHuggingFace HuggingFace => fixture.HuggingFace;

    [Fact]
    public async Task Detr_detections_are_normalised_and_the_fake_got_the_frame_bytes_and_the_token()
    {
        var model = CloudFixture.UniqueModel("detr");

        var result = await InferOkAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", model);

        Assert.Equal("object_detection_detr", result.GetProperty("task").GetString());
        Assert.Equal(model, result.GetProperty("model_id").GetString());
        Assert.Equal(3, result.GetProperty("count").GetInt32());
        var detections = result.GetProperty("detections").EnumerateArray().ToList();
        // Highest confidence first; corners turned into [x, y, width, height].
        Assert.Equal(["person", "person", "backpack"], detections.Select(d => d.GetProperty("label").GetString()));
        Assert.Equal([0.9987, 0.9412, 0.9021], detections.Select(d => d.GetProperty("confidence").GetDouble()));
        Assert.Equal([10, 20, 100, 200], Box(detections[0]));
        Assert.Equal([120, 40, 181, 430], Box(detections[1]));
        Assert.Equal([150, 100, 50, 80], Box(detections[2]));
        Assert.True(result.GetProperty("latency_ms").GetDouble() > 0);
        Assert.InRange(result.GetProperty("executed_at").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var request = Assert.Single(HuggingFace.RequestsFor(model));
        Assert.Equal($"{FakeHuggingFace.RouterPrefix}/models/{model}", request.Path); // the slash of the model id stays a slash
        Assert.Equal("Bearer " + CloudFixture.ValidToken, request.Authorization);
        Assert.Equal("image/jpeg", request.ContentType);
        Assert.Equal(CloudFixture.FrameBytes("persons", "astronaut.jpg"), request.Image);
        Assert.Null(request.Parameters);
    }

    [Fact]
    public async Task Object_detection_alias_uses_the_default_model_and_the_short_frame_uri()
    {
        var before = HuggingFace.RequestsFor("facebook/detr-resnet-50").Count;

        var result = await InferOkAsync("object-detection", "opennvr://persons/messi5.jpg");

        Assert.Equal("object-detection", result.GetProperty("task").GetString());
        Assert.Equal("facebook/detr-resnet-50", result.GetProperty("model_id").GetString());
        Assert.Equal(3, result.GetProperty("count").GetInt32());
        var requests = HuggingFace.RequestsFor("facebook/detr-resnet-50");
        Assert.Equal(before + 1, requests.Count);
        Assert.Equal(CloudFixture.FrameBytes("persons", "messi5.jpg"), requests[^1].Image);
    }

    [Fact]
    public async Task Image_classification_lists_labels_by_confidence()
    {
        var model = CloudFixture.UniqueModel("classify");

        var result = await InferOkAsync("image-classification", "opennvr://frames/persons/grace_hopper.jpg", model);

        Assert.Equal("image-classification", result.GetProperty("task").GetString());
        Assert.Equal(model, result.GetProperty("model_id").GetString());
        var labels = result.GetProperty("labels").EnumerateArray().ToList();
        Assert.Equal(["astronaut, spaceman", "space shuttle", "parachute"], labels.Select(l => l.GetProperty("label").GetString()));
        Assert.Equal([0.8513, 0.1021, 0.0188], labels.Select(l => l.GetProperty("confidence").GetDouble()));
        Assert.Equal(CloudFixture.FrameBytes("persons", "grace_hopper.jpg"), Assert.Single(HuggingFace.RequestsFor(model)).Image);
    }

    [Fact]
    public async Task Image_to_text_returns_the_caption_and_sends_a_png_as_png()
    {
        var model = CloudFixture.UniqueModel("caption");

        var result = await InferOkAsync("image-to-text", "opennvr://frames/pngcam/tiny.png", model);

        Assert.Equal("image-to-text", result.GetProperty("task").GetString());
        Assert.Equal("an astronaut in a white space suit holding a flag", result.GetProperty("text").GetString());
        var request = Assert.Single(HuggingFace.RequestsFor(model));
        Assert.Equal("image/png", request.ContentType);
        Assert.Equal(CloudFixture.TinyPng, request.Image);
    }

    [Fact]
    public async Task Parameters_are_passed_through_in_the_json_form_with_the_same_image_bytes()
    {
        var model = CloudFixture.UniqueModel("classify");

        await InferOkAsync("image-classification", "opennvr://frames/negative/dogs.jpg", model, new { top_k = 2, function_to_apply = "softmax" });

        var request = Assert.Single(HuggingFace.RequestsFor(model));
        Assert.Equal("application/json", request.ContentType);
        Assert.Equal(CloudFixture.FrameBytes("negative", "dogs.jpg"), request.Image);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"top_k":2,"function_to_apply":"softmax"}"""), JsonNode.Parse(request.Parameters!)));
    }

    [Fact]
    public async Task A_loading_model_is_waited_out_without_spending_retries()
    {
        var model = CloudFixture.UniqueModel("loading");

        var result = await InferOkAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", model);

        Assert.Equal(3, result.GetProperty("count").GetInt32());
        var requests = HuggingFace.RequestsFor(model);
        Assert.Equal(3, requests.Count); // two "currently loading" replies, then the answer
        // Each wait is the reply's estimated_time (0.2 s), not the 0.05 s backoff.
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromMilliseconds(180), $"{requests[1].ReceivedAt - requests[0].ReceivedAt}");
        Assert.True(requests[2].ReceivedAt - requests[1].ReceivedAt >= TimeSpan.FromMilliseconds(180), $"{requests[2].ReceivedAt - requests[1].ReceivedAt}");
    }

    [Fact]
    public async Task A_model_still_loading_when_the_wait_budget_is_spent_is_503_with_retry_after()
    {
        var model = CloudFixture.UniqueModel("loading-forever");

        var started = Stopwatch.GetTimestamp();
        using var response = await fixture.PostCloudAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", model);

        var problem = await ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("still loading", problem.GetProperty("detail").GetString());
        Assert.Contains("HuggingFace:MaxModelLoadWaitSeconds", problem.GetProperty("detail").GetString());
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single()); // estimated_time 0.2 s, rounded up
        // A 1 s budget in waits of 0.2 s: five waits, so six attempts; MaxRetries (2) is not what limited it.
        Assert.Equal(1 + (int)(CloudFixture.MaxModelLoadWaitSeconds / 0.2), HuggingFace.RequestsFor(model).Count);
        // Five timer waits of 0.2 s, each of which may fire up to a millisecond tick early: 20 ms of slack.
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromSeconds(CloudFixture.MaxModelLoadWaitSeconds) - TimeSpan.FromMilliseconds(20));
    }

    [Theory]
    [InlineData("rate-limited")] // Retry-After: 1
    [InlineData("rate-limited-date")] // Retry-After: <HTTP date at least 1 s ahead>
    public async Task Too_many_requests_is_retried_after_the_retry_after_pause(string behaviour)
    {
        var model = CloudFixture.UniqueModel(behaviour);

        await InferOkAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", model);

        var requests = HuggingFace.RequestsFor(model);
        Assert.Equal(2, requests.Count);
        var pause = requests[1].ReceivedAt - requests[0].ReceivedAt;
        Assert.True(pause >= TimeSpan.FromMilliseconds(950), $"retried after {pause.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_retry_after_longer_than_the_limit_is_passed_on_as_503_without_retrying()
    {
        var model = CloudFixture.UniqueModel("rate-limited-long");

        using var response = await fixture.PostCloudAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", model);

        var problem = await ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("3600", response.Headers.GetValues("Retry-After").Single());
        Assert.Contains(model, problem.GetProperty("detail").GetString());
        Assert.Contains("429", problem.GetProperty("detail").GetString());
        Assert.Single(HuggingFace.RequestsFor(model));
    }

    [Fact]
    public async Task A_failing_model_opens_its_circuit_and_then_fails_fast_without_affecting_other_models()
    {
        var failing = CloudFixture.UniqueModel("failing");
        var healthy = CloudFixture.UniqueModel("detr");

        using (var first = await fixture.PostCloudAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", failing))
        {
            var problem = await ProblemAsync(first, HttpStatusCode.BadGateway);
            var detail = problem.GetProperty("detail").GetString();
            Assert.Contains(failing, detail);
            Assert.Contains("500", detail);
            Assert.Contains("3 attempts", detail);
        }

        Assert.Equal(1 + CloudFixture.MaxRetries, HuggingFace.RequestsFor(failing).Count);

        var started = Stopwatch.GetTimestamp();
        using (var second = await fixture.PostCloudAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", failing))
        {
            var problem = await ProblemAsync(second, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("circuit", problem.GetProperty("detail").GetString());
            Assert.Contains(failing, problem.GetProperty("detail").GetString());
            Assert.InRange(int.Parse(second.Headers.GetValues("Retry-After").Single()), 1, CloudFixture.CircuitBreakSeconds);
        }

        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(1), "an open circuit answers at once");
        Assert.Equal(1 + CloudFixture.MaxRetries, HuggingFace.RequestsFor(failing).Count); // nothing more reached the server

        // Another model has its own circuit.
        await InferOkAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", healthy);
        Assert.Single(HuggingFace.RequestsFor(healthy));
    }

    [Fact]
    public async Task A_slow_model_times_out_each_attempt_and_gives_504()
    {
        var model = CloudFixture.UniqueModel("slow");

        var started = Stopwatch.GetTimestamp();
        using var response = await fixture.PostCloudAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", model);

        var problem = await ProblemAsync(response, HttpStatusCode.GatewayTimeout);
        Assert.Contains(model, problem.GetProperty("detail").GetString());
        Assert.Contains("HuggingFace:AttemptTimeoutSeconds", problem.GetProperty("detail").GetString());
        Assert.Equal(1 + CloudFixture.MaxRetries, HuggingFace.RequestsFor(model).Count);
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "attempts are cut at the attempt timeout, not at the fake's 10 s");
    }

    [Fact]
    public async Task An_unknown_model_is_404_naming_it_and_is_not_retried()
    {
        var model = CloudFixture.UniqueModel("nosuchorg");

        using var response = await fixture.PostCloudAsync("image-classification", "opennvr://frames/persons/astronaut.jpg", model);

        var problem = await ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains(model, problem.GetProperty("detail").GetString());
        Assert.Contains("does not exist", problem.GetProperty("detail").GetString()); // Hugging Face's own words
        Assert.Single(HuggingFace.RequestsFor(model));
    }

    [Fact]
    public async Task Parameters_the_model_rejects_give_422_with_its_message()
    {
        var model = CloudFixture.UniqueModel("bad-params");

        using var response = await fixture.PostCloudAsync("image-classification", "opennvr://frames/persons/astronaut.jpg", model, new { nonsense = true });

        var problem = await ProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("model_kwargs", problem.GetProperty("detail").GetString());
        Assert.Single(HuggingFace.RequestsFor(model));
    }

    [Fact]
    public async Task A_reply_that_is_not_json_is_502()
    {
        var model = CloudFixture.UniqueModel("not-json");

        using var response = await fixture.PostCloudAsync("object-detection", "opennvr://frames/persons/astronaut.jpg", model);

        var problem = await ProblemAsync(response, HttpStatusCode.BadGateway);
        Assert.Contains("not JSON", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Local_tasks_never_reach_the_cloud_and_cloud_tasks_need_input_data()
    {
        var before = HuggingFace.Requests.Count;

        var local = await fixture.InferAsync("person_counting", "opennvr://frames/persons/astronaut.jpg");
        Assert.Equal(1, local.GetProperty("count").GetInt32());

        using (var localWithInputData = await fixture.PostCloudAsync("person_counting", "opennvr://frames/persons/astronaut.jpg", "facebook/detr-resnet-50"))
        {
            var problem = await ProblemAsync(localWithInputData, HttpStatusCode.BadRequest);
            Assert.Contains("input.frame", problem.GetProperty("detail").GetString());
        }

        using (var cloudWithInput = await fixture.Client.PostAsJsonAsync("/infer", InferenceServiceFixture.InferBody("object_detection_detr", "opennvr://frames/persons/astronaut.jpg")))
        {
            var problem = await ProblemAsync(cloudWithInput, HttpStatusCode.BadRequest);
            Assert.Contains("input_data", problem.GetProperty("detail").GetString());
        }

        Assert.Equal(before, HuggingFace.Requests.Count);
    }

    public static TheoryData<string, string> InvalidInputData => new()
    {
        { """{"model_name":"../api/whoami","inputs":{"image":"opennvr://frames/persons/astronaut.jpg"}}""", "'..'" },
        { """{"model_name":"facebook/./detr","inputs":{"image":"opennvr://frames/persons/astronaut.jpg"}}""", "'.'" },
        { """{"model_name":"/facebook/detr-resnet-50","inputs":{"image":"opennvr://frames/persons/astronaut.jpg"}}""", "start or end with '/'" },
        { """{"model_name":"facebook//detr","inputs":{"image":"opennvr://frames/persons/astronaut.jpg"}}""", "'//'" },
        { """{"model_name":"facebook/detr?x=1","inputs":{"image":"opennvr://frames/persons/astronaut.jpg"}}""", "may only contain" },
        { """{"model_name":"face book","inputs":{"image":"opennvr://frames/persons/astronaut.jpg"}}""", "may only contain" },
        { """{"model_name":""" + "\"" + new string('a', 201) + "\"" + ""","inputs":{"image":"opennvr://frames/persons/astronaut.jpg"}}""", "201 characters" },
        { """{"model_name":42,"inputs":{"image":"opennvr://frames/persons/astronaut.jpg"}}""", "model_name must be a string" },
        { """{"model_name":"facebook/detr-resnet-50"}""", "input_data.inputs is required" },
        { """{"inputs":"opennvr://frames/persons/astronaut.jpg"}""", "must be an object" },
        { """{"inputs":{}}""", "input_data.inputs.image is required" },
        { """{"inputs":{"image":7}}""", "must be a string" },
        { """{"inputs":{"image":"http://169.254.169.254/latest/meta-data/"}}""", "http(s) image URLs are not fetched" },
        { """{"inputs":{"image":"https://127.0.0.1:9100/frames/x.jpg"}}""", "http(s) image URLs are not fetched" },
        { """{"inputs":{"image":"file:///etc/passwd"}}""", "scheme 'file' is not supported" },
        { """{"inputs":{"image":"opennvr://frames/../../etc/passwd"}}""", "opennvr://" },
        { """{"inputs":{"image":"opennvr://frames/persons/astronaut.jpg"},"parameters":[1]}""", "parameters must be an object" },
    };

    [Theory]
    [MemberData(nameof(InvalidInputData))]
    public async Task Invalid_input_data_is_400_and_never_reaches_the_cloud(string inputData, string expected)
    {
        var before = HuggingFace.Requests.Count;
        using var content = new StringContent("""{"task":"object_detection_detr","input_data":""" + inputData + "}", System.Text.Encoding.UTF8, "application/json");

        using var response = await fixture.Client.PostAsync("/infer", content);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, problem.GetProperty("detail").GetString());
        Assert.Equal(before, HuggingFace.Requests.Count);
    }

    [Fact]
    public async Task A_missing_frame_is_404_from_the_resolver_and_never_reaches_the_cloud()
    {
        var before = HuggingFace.Requests.Count;

        using var response = await fixture.PostCloudAsync("image-to-text", "opennvr://frames/persons/nothing-here.jpg");

        await ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal(before, HuggingFace.Requests.Count);
    }

    [Fact]
    public async Task Cloud_tasks_are_listed_with_the_cloud_model_info()
    {
        var capabilities = await fixture.Client.GetFromJsonAsync<JsonElement>("/capabilities");
        var names = capabilities.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Superset(new HashSet<string?> { "object_detection_detr", "object-detection", "image-classification", "image-to-text", "person_counting" }, names.ToHashSet());

        var tasks = await fixture.Client.GetFromJsonAsync<JsonElement>("/tasks");
        var info = tasks.GetProperty("tasks").GetProperty("image-to-text").GetProperty("model_info");
        Assert.Equal("Salesforce/blip-image-captioning-base", info.GetProperty("model").GetString());
        Assert.Equal("huggingface", info.GetProperty("framework").GetString());
        Assert.Equal("cloud", info.GetProperty("device").GetString());
    }

    [Theory]
    [InlineData("object_detection_detr", "detr")]
    [InlineData("object-detection", "detr")]
    [InlineData("image-classification", "classify")]
    [InlineData("image-to-text", "caption")]
    public async Task Real_responses_validate_against_their_served_schema(string task, string behaviour)
    {
        var schema = JsonSchema.FromText((await fixture.Client.GetStringAsync($"/schema?task={task}")));

        var result = await InferOkAsync(task, "opennvr://frames/persons/astronaut.jpg", CloudFixture.UniqueModel(behaviour));

        var evaluation = schema.Evaluate(result, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(evaluation.IsValid, $"{task} response {result} does not match its schema");
    }

    private async Task<JsonElement> InferOkAsync(string task, string image, string? model = null, object? parameters = null)
    {
        using var response = await fixture.PostCloudAsync(task, image, model, parameters);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    internal static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    private static int[] Box(JsonElement detection) => [.. detection.GetProperty("bbox").EnumerateArray().Select(v => v.GetInt32())];
}
