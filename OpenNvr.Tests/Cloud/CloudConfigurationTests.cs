using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenNvr.Inference.Cloud;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Tests.Cloud;

/// <summary>Model-id rules, option validation, availability without a token and the bound on per-model pipelines.</summary>
public sealed class CloudConfigurationTests
{
    [Theory]
    [InlineData("facebook/detr-resnet-50")]
    [InlineData("google/vit-base-patch16-224")]
    [InlineData("Salesforce/blip-image-captioning-base")]
    [InlineData("gpt2")]
    [InlineData("org/sub.model_v1.0-final")]
    public void Real_model_ids_are_valid(string model) => Assert.Null(HuggingFaceModelId.Check(model));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("..", "'..'")]
    [InlineData("org/..", "'..'")]
    [InlineData("../org/model", "'..'")]
    [InlineData("org/./model", "'.'")]
    [InlineData("/org/model", "start or end")]
    [InlineData("org/model/", "start or end")]
    [InlineData("org//model", "'//'")]
    [InlineData("org/model%2F..", "may only contain")]
    [InlineData("org\\model", "may only contain")]
    [InlineData("org/model\n", "may only contain")]
    [InlineData("orgé/model", "may only contain")]
    public void Unsafe_model_ids_are_refused_with_the_reason(string model, string reason) =>
        Assert.Contains(reason, HuggingFaceModelId.Check(model));

    [Fact]
    public void Model_ids_are_at_most_200_characters()
    {
        Assert.Null(HuggingFaceModelId.Check(new string('a', 200)));
        Assert.Contains("201 characters", HuggingFaceModelId.Check(new string('a', 201)));
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        var result = new HuggingFaceOptionsValidator().Validate(null, new HuggingFaceOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Out_of_range_limits_are_refused_naming_the_key()
    {
        var options = new HuggingFaceOptions
        {
            BaseUrl = "ftp://example.org",
            AttemptTimeoutSeconds = 10,
            TotalTimeoutSeconds = 5,
            CircuitBreakSeconds = 0.1,
            CircuitMinimumThroughput = 1,
            MaxRetries = -1,
            ObjectDetectionModel = "../etc",
            AllowedModels = ["ok/model", "bad model"],
        };

        var failures = new HuggingFaceOptionsValidator().Validate(null, options).Failures!.ToList();

        foreach (var key in new[] { "HuggingFace:BaseUrl", "HuggingFace:TotalTimeoutSeconds", "HuggingFace:CircuitBreakSeconds",
                     "HuggingFace:CircuitMinimumThroughput", "HuggingFace:MaxRetries", "HuggingFace:ObjectDetectionModel", "HuggingFace:AllowedModels:1" })
        {
            Assert.Contains(failures, f => f.Contains(key, StringComparison.Ordinal));
        }

        Assert.DoesNotContain(failures, f => f.Contains("AllowedModels:0", StringComparison.Ordinal));
    }

    [Fact]
    public void The_options_never_print_the_token()
    {
        var options = new HuggingFaceOptions { Token = "hf_secret_value" };

        Assert.DoesNotContain("hf_secret_value", options.ToString());
        Assert.Contains("(set)", options.ToString());
    }

    [Fact]
    public void Without_a_token_the_cloud_tasks_are_not_offered()
    {
        var withoutToken = new StaticOptionsMonitor(new HuggingFaceOptions { Token = "  " });
        IInferenceTask[] tasks =
        [
            new DetrObjectDetectionTask(null!, null!, withoutToken),
            new HuggingFaceObjectDetectionTask(null!, null!, withoutToken),
            new ImageClassificationTask(null!, null!, withoutToken),
            new ImageToTextTask(null!, null!, withoutToken),
        ];

        var registry = new TaskRegistry(tasks, NullLogger<TaskRegistry>.Instance);

        Assert.All(tasks, t => Assert.False(t.IsAvailable));
        Assert.Empty(registry.Names);
        Assert.False(registry.TryGet("object_detection_detr", out _));
        // Known all the same, with what to set: /tasks lists them unavailable, /infer answers 503 with the reason.
        Assert.Equal(["image-classification", "image-to-text", "object-detection", "object_detection_detr"], registry.Unavailable.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.True(registry.TryGetUnavailable("object_detection_detr", out var reason));
        Assert.Contains("Parameters:hf-token", reason);
        Assert.Contains("HuggingFace:Token", reason);
        Assert.False(registry.TryGetUnavailable("person_counting", out _));

        var withToken = new StaticOptionsMonitor(new HuggingFaceOptions { Token = "hf_x" });
        Assert.True(new ImageToTextTask(null!, null!, withToken).IsAvailable);
    }

    [Fact]
    public void Models_beyond_the_tracked_limit_share_the_overflow_pipeline()
    {
        var keys = new HuggingFacePipelineKeys(new StaticOptionsMonitor(new HuggingFaceOptions { MaxTrackedModels = 2 }));

        Assert.Equal("a/one", keys.For("a/one"));
        Assert.Equal("a/two", keys.For("a/two"));
        Assert.Equal(HuggingFacePipelineKeys.Overflow, keys.For("a/three"));
        Assert.Equal(HuggingFacePipelineKeys.Overflow, keys.For("a/four"));
        Assert.Equal("a/one", keys.For("a/one")); // known models keep their own
    }

    [Fact]
    public void A_model_outside_the_allowed_list_is_403_and_ids_compare_case_insensitively()
    {
        var options = new HuggingFaceOptions { AllowedModels = ["facebook/detr-resnet-50"] };
        InferenceRequest Request(string model) => new("object_detection_detr", null, System.Text.Json.JsonDocument.Parse(
            "{\"model_name\":\"" + model + "\",\"inputs\":{\"image\":\"opennvr://frames/cam/x.jpg\"}}").RootElement.Clone(), TimeProvider.System);

        var problem = Assert.Throws<InferenceProblemException>(() => CloudInput.Parse(Request("other/model"), "facebook/detr-resnet-50", options));
        Assert.Equal(403, problem.StatusCode);
        Assert.Contains("HuggingFace:AllowedModels", problem.Detail);

        var allowed = CloudInput.Parse(Request("Facebook/DETR-resnet-50"), "facebook/detr-resnet-50", options);
        Assert.Equal("Facebook/DETR-resnet-50", allowed.Model);
        Assert.Equal("opennvr://frames/cam/x.jpg", allowed.ImageUri);
        Assert.Null(allowed.Parameters);
    }

    private sealed class StaticOptionsMonitor(HuggingFaceOptions value) : IOptionsMonitor<HuggingFaceOptions>
    {
        public HuggingFaceOptions CurrentValue => value;

        public HuggingFaceOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<HuggingFaceOptions, string?> listener) => null;
    }
}
