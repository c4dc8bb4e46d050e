using System.Net;
using System.Text.Json;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>What one attempt's reply was, as far as retrying and the circuit breaker are concerned.</summary>
public enum HuggingFaceReplyKind
{
    Success,

    /// <summary>503 with <c>{"error":"Model ... is currently loading","estimated_time":N}</c>: wait, do not count as a failure.</summary>
    ModelLoading,

    /// <summary>429: retry after <c>Retry-After</c>; says nothing about the model's health.</summary>
    RateLimited,

    /// <summary>5xx (other than loading) or 408: transient, retried, counted by the model's circuit breaker.</summary>
    ServerError,

    /// <summary>Any other status (400, 401, 403, 404, 3xx...): final, not retried.</summary>
    Final,
}

/// <summary>One attempt's reply: status, kind, Hugging Face's error text and its timing hints.</summary>
public sealed record HuggingFaceReply(
    HttpStatusCode Status,
    HuggingFaceReplyKind Kind,
    string? Error,
    TimeSpan? EstimatedLoadTime,
    TimeSpan? RetryAfter);

/// <summary>
/// The state of one cloud call across its attempts, travelling in the request's options (Refit <c>[Property]</c>)
/// so that the per-attempt handler, the resilience pipeline and the caller all see it: the model (which selects the
/// circuit breaker), the attempt count, the last reply, and the retry budgets spent so far.
/// </summary>
public sealed class HuggingFaceCall(string model, string pipelineKey)
{
    public const string OptionsKeyName = "opennvr.huggingface.call";
    public static readonly HttpRequestOptionsKey<HuggingFaceCall> OptionsKey = new(OptionsKeyName);

    private const int MaxErrorLength = 300;
    private const int MaxErrorBodyBytes = 64 * 1024;

    private int _attempts;

    public string Model { get; } = model;

    /// <summary>The resilience pipeline (hence circuit breaker) this call runs in: the model, or the overflow key.</summary>
    public string PipelineKey { get; } = pipelineKey;

    /// <summary>HTTP attempts sent so far (retries included).</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>The reply of the latest attempt that got one; null when none did (timeouts, connection errors).</summary>
    public HuggingFaceReply? LastReply { get; private set; }

    /// <summary>Retries spent on transient failures (bounded by <c>HuggingFace:MaxRetries</c>).</summary>
    internal int TransientRetries { get; set; }

    /// <summary>Time spent waiting for a loading model (bounded by <c>HuggingFace:MaxModelLoadWaitSeconds</c>).</summary>
    public TimeSpan ModelLoadWaited { get; internal set; }

    /// <summary>The delay chosen for the next retry, or null for the exponential jittered backoff.</summary>
    internal TimeSpan? NextDelay { get; set; }

    public static HuggingFaceCall? Of(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(OptionsKey, out var call) ? call : null;

    internal void BeginAttempt() => Interlocked.Increment(ref _attempts);

    /// <summary>
    /// Classifies an attempt's reply. Error bodies are small JSON (<c>{"error":...}</c>); they are buffered (at most
    /// 64 KB) so that the caller can still read them after the pipeline has looked.
    /// </summary>
    internal async Task<HuggingFaceReply> RecordAsync(HttpResponseMessage response, TimeProvider time, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        var code = (int)status;
        string? error = null;
        TimeSpan? estimated = null;
        if (!response.IsSuccessStatusCode)
        {
            (error, estimated) = await ReadErrorAsync(response, cancellationToken);
        }

        var kind = code switch
        {
            >= 200 and < 300 => HuggingFaceReplyKind.Success,
            503 when estimated is not null || (error?.Contains("loading", StringComparison.OrdinalIgnoreCase) ?? false) => HuggingFaceReplyKind.ModelLoading,
            429 => HuggingFaceReplyKind.RateLimited,
            408 or >= 500 => HuggingFaceReplyKind.ServerError,
            _ => HuggingFaceReplyKind.Final,
        };
        var reply = new HuggingFaceReply(status, kind, error, estimated, RetryAfterOf(response, time));
        LastReply = reply;
        return reply;
    }

    private static async Task<(string? Error, TimeSpan? EstimatedLoadTime)> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            await response.Content.LoadIntoBufferAsync(MaxErrorBodyBytes, cancellationToken);
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            return ("(unreadable or oversized error body)", null);
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                var error = root.TryGetProperty("error", out var e) ? ErrorText(e) : null;
                TimeSpan? estimated = root.TryGetProperty("estimated_time", out var t) && t.ValueKind == JsonValueKind.Number
                    && t.TryGetDouble(out var seconds) && double.IsFinite(seconds) && seconds >= 0
                        ? TimeSpan.FromSeconds(Math.Min(seconds, 86400))
                        : null;
                return (Clean(error ?? body), estimated);
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, plain text): keep the start of it as the error text.
        }

        return (Clean(body), null);
    }

    private static string? ErrorText(JsonElement error) => error.ValueKind switch
    {
        JsonValueKind.String => error.GetString(),
        JsonValueKind.Array => string.Join("; ", error.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText())),
        _ => error.GetRawText(),
    };

    /// <summary>One line, printable, short: it ends up in problem details and logs.</summary>
    private static string? Clean(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var oneLine = new string([.. text.Trim().Take(MaxErrorLength).Select(c => char.IsControl(c) ? ' ' : c)]);
        return text.Length > MaxErrorLength ? oneLine + "..." : oneLine;
    }

    /// <summary><c>Retry-After</c> as delta-seconds or an HTTP date (never negative).</summary>
    internal static TimeSpan? RetryAfterOf(HttpResponseMessage response, TimeProvider time)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}
