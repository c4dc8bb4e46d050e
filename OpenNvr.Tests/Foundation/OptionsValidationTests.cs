using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace OpenNvr.Tests.Foundation;

/// <summary>
/// Every options class is validated when the service starts: a bad setting stops it with a message naming the key,
/// instead of being clamped (or failing obscurely) where it is used. Each service's own registration
/// (<c>AddApplicationServices</c>) is built and its start-up validation run, exactly what <c>Host.StartAsync</c> runs
/// first: no database, port or hosted service is involved, so the failure is the validation's and nothing else's.
/// </summary>
public sealed class OptionsValidationTests
{
    private const string NoDatabase = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none";

    [Theory]
    [InlineData("Auth:AccessTokenMinutes", "0")]
    [InlineData("Auth:LoginPermitsPerMinute", "-3")]
    [InlineData("Internal:LeaseSeconds", "0")]
    [InlineData("Demo:MinConfidence", "1.5")]
    public void Core_refuses_to_start_with_a_bad_setting(string key, string value) =>
        AssertStartFails(builder => OpenNvr.Core.Extensions.Extensions.AddApplicationServices(builder), key, value,
            ("ConnectionStrings:nvrdb", NoDatabase), ("Auth:JwtSigningKey", OpenNvr.Tests.Core.CoreFixture.SigningKey));

    [Theory]
    [InlineData("Inference:Detector:PersonThreshold", "1.5")]
    [InlineData("Inference:ExecutionProvider", "tpu")]
    [InlineData("Inference:IntraOpThreads", "0")]
    [InlineData("Faces:MaxFacesPerFrame", "0")]
    [InlineData("Faces:RegistryPollSeconds", "0.01")]
    public void Inference_refuses_to_start_with_a_bad_setting(string key, string value) =>
        AssertStartFails(builder => OpenNvr.Inference.Extensions.Extensions.AddApplicationServices(builder), key, value,
            ("ConnectionStrings:inferencedb", NoDatabase));

    [Theory]
    [InlineData("Recorder:ChunkSeconds", "0")]
    [InlineData("Recorder:FrameRate", "100")]
    [InlineData("Recorder:MinFreePercent", "150")]
    [InlineData("Recorder:AnalysisQueueCapacity", "0")]
    [InlineData("Recorder:InferenceTimeoutSeconds", "0")]
    [InlineData("Recorder:ReconnectMaxDelaySeconds", "0.5")]
    [InlineData("Recorder:InferenceUrl", "not a url")]
    public void Recorder_refuses_to_start_with_a_bad_setting(string key, string value) =>
        AssertStartFails(builder => OpenNvr.Recorder.Extensions.Extensions.AddApplicationServices(builder), key, value);

    [Fact]
    public void Defaults_pass_validation()
    {
        Validate(builder => OpenNvr.Core.Extensions.Extensions.AddApplicationServices(builder),
            ("ConnectionStrings:nvrdb", NoDatabase), ("Auth:JwtSigningKey", OpenNvr.Tests.Core.CoreFixture.SigningKey));
        Validate(builder => OpenNvr.Inference.Extensions.Extensions.AddApplicationServices(builder), ("ConnectionStrings:inferencedb", NoDatabase));
        Validate(builder => OpenNvr.Recorder.Extensions.Extensions.AddApplicationServices(builder));
    }

    private static void AssertStartFails(Action<WebApplicationBuilder> addServices, string key, string value, params (string Key, string Value)[] settings)
    {
        // Options that read the failing ones while they are validated (the recording store's root defaults to the
        // Recorder's folder) fail with the same error, so start-up may report it once per options type.
        var thrown = Assert.ThrowsAny<Exception>(() => Validate(addServices, [.. settings, (key, value)]));
        var failures = thrown is AggregateException aggregate ? aggregate.Flatten().InnerExceptions : [thrown];
        Assert.All(failures, failure =>
        {
            Assert.IsType<OptionsValidationException>(failure);
            Assert.True(failure.Message.Contains(key + ":", StringComparison.Ordinal), $"the start-up failure does not name {key}: {failure.Message}");
        });
    }

    /// <summary>Builds the service's registration over these settings and runs its start-up validation.</summary>
    private static void Validate(Action<WebApplicationBuilder> addServices, params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddServiceDefaults();
        addServices(builder);
        using var services = builder.Services.BuildServiceProvider();
        services.GetRequiredService<IStartupValidator>().Validate();
    }
}
