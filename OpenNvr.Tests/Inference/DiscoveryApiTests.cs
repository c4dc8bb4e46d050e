using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace OpenNvr.Tests.Inference;

/// <summary><c>/capabilities</c>, <c>/tasks</c>, <c>/schema</c>, <c>/health</c>; real responses validated against the served schemas.</summary>
public sealed class DiscoveryApiTests(InferenceServiceFixture fixture) : IClassFixture<InferenceServiceFixture>
{
    private static readonly string[] DetectionTasks = ["object_detection", "person_counting", "person_detection"];

    [Fact]
    public async Task Capabilities_lists_the_loaded_tasks()
    {
        var capabilities = await GetJsonAsync("/capabilities");

        var tasks = capabilities.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(DetectionTasks, tasks.Where(DetectionTasks.Contains));
    }

    [Fact]
    public async Task Tasks_describes_each_task_with_its_schema_and_model()
    {
        var tasks = await GetJsonAsync("/tasks");

        Assert.Equal(tasks.GetProperty("tasks").EnumerateObject().Count(), tasks.GetProperty("count").GetInt32());
        foreach (var name in DetectionTasks)
        {
            var task = tasks.GetProperty("tasks").GetProperty(name);
            Assert.Equal(name, task.GetProperty("name").GetString());
            Assert.False(string.IsNullOrWhiteSpace(task.GetProperty("description").GetString()));
            Assert.Equal("object", task.GetProperty("schema").GetProperty("type").GetString());
            var model = task.GetProperty("model_info");
            Assert.Equal("centernet.onnx", model.GetProperty("model").GetString());
            Assert.Equal("onnxruntime", model.GetProperty("framework").GetString());
            Assert.Equal("cpu", model.GetProperty("device").GetString());
        }
    }

    [Fact]
    public async Task Schema_without_a_task_returns_every_schema()
    {
        var all = await GetJsonAsync("/schema");

        foreach (var name in DetectionTasks)
        {
            var single = await GetJsonAsync($"/schema?task={name}");
            Assert.Equal(single.GetRawText(), all.GetProperty("schemas").GetProperty(name).GetRawText());
        }
    }

    [Theory]
    [InlineData("person_counting", "opennvr://frames/persons/vtest_0200.jpg")]
    [InlineData("person_counting", "opennvr://frames/negative/dogs.jpg")]
    [InlineData("person_detection", "opennvr://frames/persons/astronaut.jpg")]
    [InlineData("person_detection", "opennvr://frames/negative/dogs.jpg")]
    [InlineData("object_detection", "opennvr://frames/persons/messi5.jpg")]
    public async Task Real_responses_validate_against_their_served_schema(string task, string uri)
    {
        var schema = JsonSchema.FromText((await GetJsonAsync($"/schema?task={task}")).GetRawText());
        var response = await fixture.InferAsync(task, uri);

        var result = schema.Evaluate(response, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{task} response {response} does not match its schema: {Errors(result)}");
    }

    [Fact]
    public async Task The_schemas_are_strict_enough_to_catch_drift()
    {
        var schema = JsonSchema.FromText((await GetJsonAsync("/schema?task=person_counting")).GetRawText());
        var response = JsonNode.Parse((await fixture.InferAsync("person_counting", "opennvr://frames/persons/astronaut.jpg")).GetRawText())!.AsObject();

        var missing = response.DeepClone().AsObject();
        missing.Remove("latency_ms");
        var extra = response.DeepClone().AsObject();
        extra["unexpected"] = 1;
        var wrongType = response.DeepClone().AsObject();
        wrongType["count"] = "one";
        var shortBox = response.DeepClone().AsObject();
        shortBox["detections"]![0]!["bbox"] = new JsonArray(1, 2, 3);
        var camelCase = response.DeepClone().AsObject();
        camelCase["executedAt"] = camelCase["executed_at"]!.DeepClone();
        camelCase.Remove("executed_at");

        foreach (var invalid in new[] { missing, extra, wrongType, shortBox, camelCase })
        {
            var element = JsonSerializer.SerializeToElement(invalid);
            Assert.False(schema.Evaluate(element).IsValid, $"schema accepted {invalid.ToJsonString()}");
        }
    }

    [Fact]
    public async Task Health_reports_ok_with_the_loaded_models()
    {
        var health = await GetJsonAsync("/health");

        Assert.Equal("ok", health.GetProperty("status").GetString());
        var models = health.GetProperty("checks").GetProperty("models");
        Assert.Equal("healthy", models.GetProperty("status").GetString());
        Assert.Contains("centernet.onnx (cpu)", models.GetProperty("data").GetProperty("models_loaded").EnumerateArray().Select(m => m.GetString()));
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await fixture.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string Errors(EvaluationResults result) =>
        string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
}
