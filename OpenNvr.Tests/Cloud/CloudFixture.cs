using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Logging.Testing;
using OpenNvr.Tests.Inference;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Cloud;

/// <summary>
/// The Inference service with cloud routing pointed at a <see cref="FakeHuggingFace"/> (through the router-style base
/// URL <c>{fake}/hf-inference</c>), small resilience limits so that every behaviour takes well under a second or two,
/// every log entry captured at Trace level, and every Activity of the process recorded.
/// </summary>
public class CloudFixture : InferenceServiceFixture
{
    public const string AttemptTimeoutSeconds = "0.5";
    public const int MaxRetries = 2;
    public const int CircuitBreakSeconds = 5;
    public const int MaxModelLoadWaitSeconds = 1;

    /// <summary>A 1x1 PNG, to show that the detected media type is what is sent.</summary>
    public static readonly byte[] TinyPng = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    private ActivityListener? _listener;

    public FakeHuggingFace HuggingFace { get; private set; } = null!;

    /// <summary>Every log entry so far (FakeLogger), each formatted with its structured values, scopes and exception.</summary>
    public IReadOnlyList<string> Logs => Factory.Services.GetFakeLogCollector().GetSnapshot().Select(Describe).ToList();

    public ConcurrentQueue<Activity> Activities { get; } = new();

    /// <summary>The token the fake Hugging Face accepts.</summary>
    public const string ValidToken = "hf_TEST_secret_token_5b8e2c9d41a7";

    /// <summary>The token the service is configured with.</summary>
    public virtual string ConfiguredToken => ValidToken;

    protected virtual string BaseUrlPath => FakeHuggingFace.RouterPrefix;

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("HuggingFace:BaseUrl", HuggingFace.Url + BaseUrlPath),
        new("HuggingFace:Token", ConfiguredToken),
        new("HuggingFace:AttemptTimeoutSeconds", AttemptTimeoutSeconds),
        new("HuggingFace:TotalTimeoutSeconds", "8"),
        new("HuggingFace:MaxRetries", MaxRetries.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("HuggingFace:RetryBaseDelaySeconds", "0.05"),
        new("HuggingFace:MaxRetryDelaySeconds", "3"),
        new("HuggingFace:MaxModelLoadWaitSeconds", MaxModelLoadWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("HuggingFace:CircuitMinimumThroughput", "3"),
        new("HuggingFace:CircuitFailureRatio", "0.5"),
        new("HuggingFace:CircuitSamplingSeconds", "30"),
        new("HuggingFace:CircuitBreakSeconds", CircuitBreakSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        // Everything, HttpClient's header logging included, so that a leaked token would be seen.
        new("Logging:LogLevel:Default", "Trace"),
        new("Logging:LogLevel:Microsoft.AspNetCore", "Trace"),
    ];

    protected override void ConfigureHost(IWebHostBuilder host) =>
        host.ConfigureServices(services => services.AddLogging(logging => logging
            .AddFakeLogging()
            // Trace everywhere is for the collector; the console would drown the test output.
            .AddFilter<ConsoleLoggerProvider>(level => level >= LogLevel.Warning)));

    public override async Task InitializeAsync()
    {
        HuggingFace = await FakeHuggingFace.StartAsync(ValidToken);
        _listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Activities.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
        await base.InitializeAsync();
        Directory.CreateDirectory(Path.Combine(FramesRoot, "pngcam"));
        await File.WriteAllBytesAsync(Path.Combine(FramesRoot, "pngcam", "tiny.png"), TinyPng);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _listener?.Dispose();
        await HuggingFace.DisposeAsync();
    }

    public static object CloudBody(string task, string image, string? model = null, object? parameters = null) =>
        new { task, input_data = new { model_name = model, inputs = new { image }, parameters } };

    public Task<HttpResponseMessage> PostCloudAsync(string task, string image, string? model = null, object? parameters = null) =>
        Client.PostAsJsonAsync("/infer", CloudBody(task, image, model, parameters));

    /// <summary>A model id unique to one test (its circuit breaker and the fake's counters are its own).</summary>
    public static string UniqueModel(string behaviour) => $"{behaviour}/m-{Guid.NewGuid().ToString("N")[..12]}";

    public static byte[] FrameBytes(string camera, string file) => File.ReadAllBytes(RepositoryPaths.TestData(camera, file));

    /// <summary>The message, every structured value, the scopes and the exception of an entry: where a token could leak.</summary>
    private static string Describe(FakeLogRecord record)
    {
        var entry = new System.Text.StringBuilder($"{record.Level} {record.Category}: {record.Message}");
        // FakeLogger keeps structured state as strings; anything else is kept whole.
        switch (record.State)
        {
            case IEnumerable<KeyValuePair<string, string?>> values:
                foreach (var (key, value) in values)
                {
                    entry.Append(" | ").Append(key).Append('=').Append(value);
                }

                break;
            case IEnumerable<KeyValuePair<string, object?>> objects:
                foreach (var (key, value) in objects)
                {
                    entry.Append(" | ").Append(key).Append('=').Append(value);
                }

                break;
            case { } other:
                entry.Append(" | ").Append(other);
                break;
        }

        foreach (var scope in record.Scopes)
        {
            entry.Append(" | scope: ").Append(scope);
        }

        if (record.Exception is not null)
        {
            entry.Append(" | ").Append(record.Exception);
        }

        return entry.ToString();
    }
}
