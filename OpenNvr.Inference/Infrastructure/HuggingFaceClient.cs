using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenNvr.Inference.Frames;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Refit;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>
/// Sends a frame to a Hugging Face model and returns its JSON reply, or throws an <see cref="InferenceProblemException"/>
/// whose status says honestly what went wrong (see the README's "Cloud routing" section for the table). Each call
/// is a <c>cloud.call</c> span (model and attempt count) with HttpClient's spans beneath it, one per attempt.
/// </summary>
public sealed partial class HuggingFaceClient : IDisposable
{
    public const string CallsInstrument = "opennvr.inference.cloud.calls";
    public const string ModelTag = "opennvr.cloud.model";
    public const string AttemptsTag = "opennvr.cloud.attempts";
    public const string OutcomeTag = "opennvr.cloud.outcome";

    private readonly IHuggingFaceApi _api;
    private readonly HuggingFacePipelineKeys _keys;
    private readonly IOptionsMonitor<HuggingFaceOptions> _options;
    private readonly InferenceTelemetry _telemetry;
    private readonly ILogger<HuggingFaceClient> _logger;
    private readonly Meter _meter;
    private readonly Counter<long> _calls;

    public HuggingFaceClient(
        IHuggingFaceApi api,
        HuggingFacePipelineKeys keys,
        IOptionsMonitor<HuggingFaceOptions> options,
        InferenceTelemetry telemetry,
        IMeterFactory meterFactory,
        ILogger<HuggingFaceClient> logger)
    {
        _api = api;
        _keys = keys;
        _options = options;
        _telemetry = telemetry;
        _logger = logger;
        _meter = meterFactory.Create(InferenceTelemetry.SourceName);
        _calls = _meter.CreateCounter<long>(CallsInstrument, unit: "{call}",
            description: "Calls to the Hugging Face Inference API by outcome (success, upstream_error, timeout, circuit_open, rate_limited, model_loading, token_rejected, model_not_found, rejected, unreachable).");
    }

    /// <summary>
    /// Runs <paramref name="model"/> on the frame. Without <paramref name="parameters"/> the body is the raw image
    /// (<c>Content-Type</c> from its header); with parameters it is Hugging Face's JSON form
    /// <c>{"inputs":"&lt;base64&gt;","parameters":{...}}</c>, because a raw-bytes body cannot carry them.
    /// </summary>
    public async Task<JsonElement> InferAsync(string model, FrameBytes frame, JsonElement? parameters, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        var call = new HuggingFaceCall(model, _keys.For(model));
        var started = Stopwatch.GetTimestamp();
        using var activity = InferenceTelemetry.ActivitySource.StartActivity("cloud.call", ActivityKind.Internal);
        activity?.SetTag("opennvr.cloud.provider", "huggingface");
        activity?.SetTag(ModelTag, model);

        var outcome = "success";
        try
        {
            using var content = CreateContent(frame, parameters);
            using var response = await SendAsync(call, content, options, cancellationToken);
            if (FailureOf(call, response, options) is { } failure)
            {
                throw failure;
            }

            return await ReadReplyAsync(call, response, options, cancellationToken);
        }
        catch (InferenceProblemException problem)
        {
            outcome = problem is HuggingFaceProblemException cloud ? cloud.Outcome : "unexpected_reply";
            activity?.SetStatus(ActivityStatusCode.Error, problem.Title);
            activity?.SetTag("error.type", outcome);
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var status = call.LastReply is { } last ? (int)last.Status : 0;
            activity?.SetTag(AttemptsTag, call.Attempts);
            activity?.SetTag(OutcomeTag, outcome);
            if (status != 0)
            {
                activity?.SetTag("http.response.status_code", status);
            }

            _telemetry.Record("cloud", elapsed);
            _calls.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
            if (outcome == "success")
            {
                LogCallSucceeded(_logger, model, call.Attempts, Math.Round(elapsed, 1));
            }
            else
            {
                LogCallFailed(_logger, model, outcome, call.Attempts, status, Math.Round(elapsed, 1));
            }
        }
    }

    public void Dispose() => _meter.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HuggingFaceCall call, HttpContent content, HuggingFaceOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await _api.InferAsync(call.Model, content, call, cancellationToken);
        }
        catch (Exception ex)
        {
            var cause = Unwrap(ex);
            if (cause is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw; // the client went away: nothing to answer
            }

            throw MapException(call, cause, options);
        }
    }

    /// <summary>Refit wraps what <c>HttpClient.SendAsync</c> throws in an <see cref="ApiRequestException"/>.</summary>
    private static Exception Unwrap(Exception ex) => ex is ApiRequestException { InnerException: { } inner } ? inner : ex;

    private static HuggingFaceProblemException MapException(HuggingFaceCall call, Exception cause, HuggingFaceOptions options)
    {
        var model = call.Model;
        return cause switch
        {
            BrokenCircuitException broken => Problem(StatusCodes.Status503ServiceUnavailable, "circuit_open", "Cloud model unavailable",
                $"Calls to Hugging Face model '{model}' are suspended for {Seconds(broken.RetryAfter ?? options.CircuitBreakDuration)} s after repeated failures (circuit breaker open; other models are not affected).",
                broken.RetryAfter ?? options.CircuitBreakDuration),
            TimeoutRejectedException or OperationCanceledException => Problem(StatusCodes.Status504GatewayTimeout, "timeout", "Cloud model timed out",
                $"Hugging Face did not answer for model '{model}' in time after {Attempts(call)} (HuggingFace:AttemptTimeoutSeconds = {Seconds(options.AttemptTimeout)}, HuggingFace:TotalTimeoutSeconds = {Seconds(options.TotalTimeout)}).{LastStatus(call)}"),
            HttpRequestException http => Problem(StatusCodes.Status502BadGateway, "unreachable", "Cloud service unreachable",
                $"Hugging Face could not be reached for model '{model}' after {Attempts(call)}: {Scrub(http.Message, options)}{LastStatus(call)}"),
            _ => Problem(StatusCodes.Status502BadGateway, "upstream_error", "Cloud call failed",
                $"The call to Hugging Face model '{model}' failed after {Attempts(call)}: {Scrub(cause.Message, options)}"),
        };
    }

    private static async Task<JsonElement> ReadReplyAsync(HuggingFaceCall call, HttpResponseMessage response, HuggingFaceOptions options, CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            await response.Content.LoadIntoBufferAsync(options.MaxResponseBytes, cancellationToken);
            body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw UnexpectedReply(call.Model, $"its reply could not be read or exceeds HuggingFace:MaxResponseBytes ({options.MaxResponseBytes} bytes): {ex.Message}");
        }

        try
        {
            using var json = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
            return json.RootElement.Clone();
        }
        catch (JsonException)
        {
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "no content type";
            throw UnexpectedReply(call.Model, $"its reply is not JSON ({mediaType}, {body.Length} bytes)");
        }
    }

    /// <summary>The problem for a non-success reply, or null for a success.</summary>
    private static HuggingFaceProblemException? FailureOf(HuggingFaceCall call, HttpResponseMessage response, HuggingFaceOptions options)
    {
        if (response.IsSuccessStatusCode)
        {
            return null;
        }

        var model = call.Model;
        var code = (int)response.StatusCode;
        var reply = call.LastReply;
        var error = reply?.Error is { } text ? $" ({Scrub(text, options)})" : "";
        var retryAfter = reply?.RetryAfter;
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => Problem(StatusCodes.Status502BadGateway, "token_rejected",
                "Cloud configuration error",
                $"Hugging Face answered {code} for model '{model}'{error}: the HuggingFace:Token setting is invalid, expired or lacks access to this model. Fix the setting; the request itself was fine."),
            HttpStatusCode.NotFound => Problem(StatusCodes.Status404NotFound, "model_not_found", "Cloud model not found",
                $"Hugging Face has no model '{model}' (HTTP 404{error}). Check input_data.model_name (or HuggingFace:BaseUrl if every model is reported missing)."),
            HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnsupportedMediaType =>
                Problem(StatusCodes.Status422UnprocessableEntity, "rejected", "Cloud model rejected the input",
                    $"Hugging Face model '{model}' rejected the request with HTTP {code}{error}: check input_data.parameters and that the model performs this task."),
            HttpStatusCode.TooManyRequests => Problem(StatusCodes.Status503ServiceUnavailable, "rate_limited", "Cloud rate limit",
                $"Hugging Face is rate-limiting this token (HTTP 429) for model '{model}' after {Attempts(call)}{error}; retry after {Seconds(retryAfter ?? options.MaxRetryDelay)} s.",
                retryAfter ?? options.MaxRetryDelay),
            _ when reply?.Kind == HuggingFaceReplyKind.ModelLoading => Problem(StatusCodes.Status503ServiceUnavailable, "model_loading",
                "Cloud model loading",
                $"Hugging Face model '{model}' is still loading after waiting {Seconds(call.ModelLoadWaited)} s (HuggingFace:MaxModelLoadWaitSeconds = {Seconds(options.MaxModelLoadWait)}){error}; retry in about {Seconds(reply.EstimatedLoadTime ?? options.RetryBaseDelay)} s.",
                reply.EstimatedLoadTime ?? options.RetryBaseDelay),
            _ => Problem(StatusCodes.Status502BadGateway, "upstream_error", "Cloud call failed",
                $"Hugging Face failed for model '{model}' after {Attempts(call)}; the last upstream status was {code}{error}.",
                retryAfter),
        };
    }

    private static HttpContent CreateContent(FrameBytes frame, JsonElement? parameters)
    {
        if (parameters is not { } json)
        {
            var image = new ByteArrayContent(frame.Bytes);
            image.Headers.ContentType = new MediaTypeHeaderValue(frame.Header.MediaType);
            return image;
        }

        var buffer = new ArrayBufferWriter<byte>(frame.Bytes.Length * 4 / 3 + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBase64String("inputs", frame.Bytes);
            writer.WritePropertyName("parameters");
            json.WriteTo(writer);
            writer.WriteEndObject();
        }

        var body = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return body;
    }

    internal static InferenceProblemException UnexpectedReply(string model, string what) =>
        new(StatusCodes.Status502BadGateway, "Unexpected cloud reply", $"Hugging Face model '{model}' gave an unusable reply: {what}.");

    private static HuggingFaceProblemException Problem(int status, string outcome, string title, string detail, TimeSpan? retryAfter = null) =>
        new(status, outcome, title, detail) { RetryAfter = retryAfter };

    /// <summary>Upstream text goes into problem details and logs; should it ever echo the token, it is masked.</summary>
    private static string Scrub(string text, HuggingFaceOptions options) =>
        options.Token is { Length: > 0 } token && text.Contains(token.Trim(), StringComparison.Ordinal)
            ? text.Replace(token.Trim(), "***", StringComparison.Ordinal)
            : text;

    private static string Attempts(HuggingFaceCall call) => call.Attempts == 1 ? "1 attempt" : $"{call.Attempts} attempts";

    private static string LastStatus(HuggingFaceCall call) =>
        call.LastReply is { } reply ? $" The last upstream status was {(int)reply.Status}." : "";

    private static string Seconds(TimeSpan value) => Math.Round(value.TotalSeconds, 1).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hugging Face model {Model} answered after {Attempts} attempts in {ElapsedMs} ms")]
    private static partial void LogCallSucceeded(ILogger logger, string model, int attempts, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hugging Face call to model {Model} failed ({Outcome}) after {Attempts} attempts in {ElapsedMs} ms; last upstream status {Status}")]
    private static partial void LogCallFailed(ILogger logger, string model, string outcome, int attempts, int status, double elapsedMs);
}

/// <summary>A cloud failure with the outcome it is counted and traced as (<c>opennvr.cloud.outcome</c>).</summary>
public sealed class HuggingFaceProblemException(int statusCode, string outcome, string title, string detail)
    : InferenceProblemException(statusCode, title, detail)
{
    public string Outcome { get; } = outcome;
}
