using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace OpenNvr.Tests.Foundation;

/// <summary>
/// Every options class is validated when the service starts: a bad setting stops it with a message naming the key,
/// instead of being clamped (or failing obscurely) where it is used. Validation runs before any hosted service, so
/// no database is needed: the connection strings point nowhere.
/// </summary>
public sealed class OptionsValidationTests
{
    private const string NoDatabase = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none";

    [Theory]
    [InlineData("Auth:AccessTokenMinutes", "0")]
    [InlineData("Auth:LoginPermitsPerMinute", "-3")]
    [InlineData("Internal:LeaseSeconds", "0")]
    [InlineData("Demo:MinConfidence", "1.5")]
    public async Task Core_refuses_to_start_with_a_bad_setting(string key, string value) =>
        await AssertStartFailsAsync(new WebApplicationFactory<OpenNvr.Core.Infrastructure.NvrDbContext>(), key, value,
            ("ConnectionStrings:nvrdb", NoDatabase));

    [Theory]
    [InlineData("Inference:Detector:PersonThreshold", "1.5")]
    [InlineData("Inference:ExecutionProvider", "tpu")]
    [InlineData("Inference:IntraOpThreads", "0")]
    [InlineData("Faces:MaxFacesPerFrame", "0")]
    [InlineData("Faces:RegistryPollSeconds", "0.01")]
    public async Task Inference_refuses_to_start_with_a_bad_setting(string key, string value) =>
        await AssertStartFailsAsync(new WebApplicationFactory<OpenNvr.Inference.Infrastructure.InferenceDbContext>(), key, value,
            ("ConnectionStrings:inferencedb", NoDatabase));

    [Theory]
    [InlineData("Recorder:ChunkSeconds", "0")]
    [InlineData("Recorder:FrameRate", "100")]
    [InlineData("Recorder:MinFreePercent", "150")]
    [InlineData("Recorder:AnalysisQueueCapacity", "0")]
    [InlineData("Recorder:InferenceTimeoutSeconds", "0")]
    [InlineData("Recorder:ReconnectMaxDelaySeconds", "0.5")]
    [InlineData("Recorder:InferenceUrl", "not a url")]
    public async Task Recorder_refuses_to_start_with_a_bad_setting(string key, string value) =>
        await AssertStartFailsAsync(new WebApplicationFactory<OpenNvr.Recorder.Recording.RecorderOptions>(), key, value);

    private static async Task AssertStartFailsAsync<T>(WebApplicationFactory<T> factory, string key, string value,
        params (string Key, string Value)[] settings) where T : class
    {
        var root = Directory.CreateTempSubdirectory("opennvr-options-");
        try
        {
            await using var bad = factory.WithWebHostBuilder(host =>
            {
                // Keep the Recorder's state and media out of the shared temp folders.
                host.UseSetting("Recorder:RecordingsRoot", Path.Combine(root.FullName, "recordings"));
                host.UseSetting("Frames:Root", Path.Combine(root.FullName, "frames"));
                foreach (var (k, v) in settings)
                {
                    host.UseSetting(k, v);
                }

                host.UseSetting(key, value);
            });
            var failure = Record.Exception(() => bad.CreateClient());
            Assert.NotNull(failure);
            var message = failure.ToString();
            Assert.True(message.Contains(key, StringComparison.Ordinal), $"the start-up failure does not name {key}: {message}");
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
