using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenNvr.Contracts;
using OpenNvr.Contracts.Internal;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Tests.Core;
using Refit;

namespace OpenNvr.Tests.Contracts;

/// <summary>
/// The client side of the service keys: the Refit clients get their key from one handler, configured like the services
/// configure it, and the key never reaches a log. Against the real Core (in-process, real PostgreSQL).
/// </summary>
public sealed class SharedKeyClientTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    private static readonly HeartbeatRequest Beat = new("rec-keys", "http://127.0.0.1:8100", 0);

    [Fact]
    public async Task A_client_with_the_key_is_served_and_one_without_gets_the_401_problem()
    {
        using var withKey = Client(CoreFixture.InternalKey, new LogCollector());
        var answer = await withKey.GetRequiredService<ICoreInternalApi>().HeartbeatAsync(Beat, CancellationToken.None);
        Assert.True(answer.LeaseSeconds > 0);

        using var withoutKey = Client(key: null, new LogCollector());
        var refused = await Assert.ThrowsAnyAsync<ApiException>(() => withoutKey.GetRequiredService<ICoreInternalApi>().HeartbeatAsync(Beat, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.ContentHeaders?.ContentType?.MediaType);
        Assert.Contains("The X-Internal-Key header is required.", refused.Content);

        // The Recorder's wrapper treats a refused key as a failure to retry (keys rotate), not as a rejected request.
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() =>
            new CoreClient(withoutKey.GetRequiredService<ICoreInternalApi>()).HeartbeatAsync(Beat, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, failure.StatusCode);

        using var wrongKey = Client("not-the-key", new LogCollector());
        var wrong = await Assert.ThrowsAnyAsync<ApiException>(() => wrongKey.GetRequiredService<ICoreInternalApi>().HeartbeatAsync(Beat, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("The X-Internal-Key header is not valid.", wrong.Content);
    }

    [Fact]
    public async Task A_4xx_that_a_retry_cannot_cure_is_a_rejection_with_Core_s_detail()
    {
        using var client = Client(CoreFixture.InternalKey, new LogCollector());
        var rejected = await Assert.ThrowsAsync<CoreRejectedException>(() => new CoreClient(client.GetRequiredService<ICoreInternalApi>())
            .ReportStateAsync(999_999, new CameraStateRequest(RecordingStates.Recording), CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, rejected.Status);
        Assert.Equal("Camera 999999 does not exist.", rejected.Detail);
    }

    [Fact]
    public async Task The_key_never_appears_in_the_client_s_logs()
    {
        var logs = new LogCollector();
        using var client = Client(CoreFixture.InternalKey, logs);
        await client.GetRequiredService<ICoreInternalApi>().HeartbeatAsync(Beat, CancellationToken.None);

        // HttpClient's logging at Trace writes every request header: the key's name is there, its value is not.
        Assert.Contains(logs.Messages, m => m.Contains(SharedKeyEndpointExtensions.InternalKeyHeader, StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Messages, m => m.Contains(CoreFixture.InternalKey, StringComparison.Ordinal));
    }

    /// <summary>The Recorder's registration of Core's client, its primary handler the in-process Core.</summary>
    private ServiceProvider Client(string? key, LogCollector logs)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [ServiceKeys.RecorderCore] = key }).Build());
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        services.AddServiceClient<ICoreInternalApi>(ICoreInternalApi.BaseUrl,
                SharedKeyEndpointExtensions.InternalKeyHeader, ServiceKeys.RecorderCore)
            .ConfigurePrimaryHttpMessageHandler(() => core.Factory.Server.CreateHandler());
        return services.BuildServiceProvider();
    }

    private sealed class LogCollector : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages;

        public ILogger CreateLogger(string categoryName) => new Logger(_messages);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception) + " " + exception);
        }
    }
}
