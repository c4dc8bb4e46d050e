using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Model;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace OpenNvr.Core.Integrations.Webhooks;

/// <summary>How one round of a delivery ended.</summary>
public enum RoundOutcome
{
    Delivered,

    /// <summary>5xx, 408, 429, timeouts, connection errors: worth another round later.</summary>
    Failed,

    /// <summary>Another 4xx: the receiver refuses this delivery; retrying will not change its mind.</summary>
    Refused,

    /// <summary>410 Gone: the receiver says the hook is gone for good.</summary>
    Gone,
}

public sealed record RoundResult(RoundOutcome Outcome, IReadOnlyList<WebhookAttempt> Attempts, TimeSpan? RetryAfter)
{
    public WebhookAttempt Last => Attempts[^1];
}

/// <summary>
/// One round of a delivery: up to <see cref="WebhookOptions.AttemptsPerRound"/> signed POSTs through a Polly retry
/// pipeline (exponential delays with jitter, <c>Retry-After</c> honoured up to <see cref="WebhookOptions.MaxRetryAfterSeconds"/>,
/// each attempt under <see cref="WebhookOptions.TimeoutSeconds"/>). Every attempt builds its body anew with the current
/// timestamp and signs it, and is recorded for the delivery log.
/// </summary>
public sealed class WebhookSender
{
    public const string HttpClientName = "webhooks";
    public const string UserAgent = "OpenNVR-Webhooks/1.0";

    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _clock;
    private readonly IntegrationsTelemetry _telemetry;
    private readonly WebhookOptions _options;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public WebhookSender(IHttpClientFactory http, IOptions<WebhookOptions> options, TimeProvider clock, IntegrationsTelemetry telemetry)
    {
        _http = http;
        _clock = clock;
        _telemetry = telemetry;
        _options = options.Value;
        var maxRetryAfter = TimeSpan.FromSeconds(_options.MaxRetryAfterSeconds);
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, _options.AttemptsPerRound - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(_options.RetryDelayMs),
                ShouldHandle = args => ValueTask.FromResult(_options.AttemptsPerRound > 1 && args.Outcome switch
                {
                    { Exception: HttpRequestException or TimeoutRejectedException } => true,
                    { Result: { } response } => IsTransient(response.StatusCode) && !(RetryAfter(response) > maxRetryAfter),
                    _ => false,
                }),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response) : null),
            })
            .AddTimeout(TimeSpan.FromSeconds(_options.TimeoutSeconds))
            .Build();
    }

    public async Task<RoundResult> SendRoundAsync(string url, string secret, WebhookDelivery delivery, CancellationToken ct)
    {
        var attempts = new List<WebhookAttempt>();
        var client = _http.CreateClient(HttpClientName);
        var context = ResilienceContextPool.Shared.Get(ct);
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(async (ctx, state) =>
            {
                var number = state.delivery.Attempts + state.attempts.Count + 1;
                var attempt = new WebhookAttempt { DeliveryId = state.delivery.Id, Number = number, At = _clock.GetUtcNow() };
                state.attempts.Add(attempt);
                var started = _clock.GetTimestamp();
                try
                {
                    var body = Body(state.delivery, number, attempt.At);
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                    request.Headers.UserAgent.ParseAdd(UserAgent);
                    request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(body, secret));
                    request.Headers.Add(WebhookSignature.TimestampHeader, attempt.At.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
                    request.Headers.Add(WebhookSignature.DeliveryHeader, state.delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    request.Headers.Add(WebhookSignature.EventHeader, state.delivery.EventType ?? state.delivery.Kind);
                    var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ctx.CancellationToken);
                    attempt.StatusCode = (int)response.StatusCode;
                    if (!response.IsSuccessStatusCode)
                    {
                        attempt.Error = Truncate($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".Trim());
                    }

                    return Outcome.FromResult(response);
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
                {
                    attempt.Error = Truncate(ex is OperationCanceledException ? $"timed out after {_options.TimeoutSeconds} s" : ex.GetBaseException().Message);
                    return Outcome.FromException<HttpResponseMessage>(ex);
                }
                finally
                {
                    attempt.DurationMs = Math.Round(_clock.GetElapsedTime(started).TotalMilliseconds, 1);
                    _telemetry.WebhookAttempt(attempt.StatusCode is { } code ? $"{code / 100}xx" : "error", attempt.DurationMs);
                }
            }, context, (delivery, attempts));

            using var response = outcome.Result;
            ct.ThrowIfCancellationRequested();
            if (outcome.Exception is TimeoutRejectedException && attempts.Count > 0)
            {
                attempts[^1].Error = $"timed out after {_options.TimeoutSeconds} s";
            }

            var result = response?.StatusCode switch
            {
                { } code when (int)code is >= 200 and < 300 => RoundOutcome.Delivered,
                HttpStatusCode.Gone => RoundOutcome.Gone,
                { } code when (int)code is >= 400 and < 500 && !IsTransient(code) => RoundOutcome.Refused,
                _ => RoundOutcome.Failed,
            };
            return new RoundResult(result, attempts, response is null ? null : RetryAfter(response));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// The signed body: <c>{"delivery_id","webhook_id","type","event_type","attempt","timestamp","event"|"message"}</c>,
    /// where <c>event</c> is the event exactly as the REST API shows it.
    /// </summary>
    public static byte[] Body(WebhookDelivery delivery, int attempt, DateTimeOffset at)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("delivery_id", delivery.Id);
            json.WriteNumber("webhook_id", delivery.WebhookId);
            json.WriteString("type", delivery.Kind);
            json.WriteString("event_type", delivery.EventType);
            json.WriteNumber("attempt", attempt);
            json.WriteNumber("timestamp", at.ToUnixTimeSeconds());
            json.WritePropertyName(delivery.Kind == "event" ? "event" : "data");
            json.WriteRawValue(delivery.Payload, skipInputValidation: false);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static bool IsTransient(HttpStatusCode code) =>
        (int)code >= 500 || code is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: { } date } => date - _clock.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500];
}
