using System.Collections.Concurrent;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>
/// The resilience pipeline of the Hugging Face client, one instance per model (so one circuit breaker per model),
/// outermost first:
/// <list type="number">
/// <item>total timeout (<c>TotalTimeoutSeconds</c>) over everything below;</item>
/// <item>retry: transient failures (429, 5xx, 408, attempt timeouts, connection errors) up to <c>MaxRetries</c> with
/// exponential jittered backoff, or exactly <c>Retry-After</c> when given (but never longer than
/// <c>MaxRetryDelaySeconds</c>: a longer pause ends the call and is passed on); a loading model (503 +
/// <c>estimated_time</c>) is waited out for its estimate, up to <c>MaxModelLoadWaitSeconds</c> in total, without
/// spending retries;</item>
/// <item>circuit breaker: 5xx other than loading, timeouts and connection errors are failures; 429, 4xx and loading
/// replies are not (they say nothing about whether the model is dead);</item>
/// <item>attempt timeout (<c>AttemptTimeoutSeconds</c>).</item>
/// </list>
/// The decisions read the per-call <see cref="HuggingFaceCall"/> that <see cref="HuggingFaceAttemptHandler"/> fills.
/// </summary>
internal static class HuggingFaceResilience
{
    public const string PipelineName = "huggingface";

    /// <summary>Shortest wait between polls of a loading model, so a zero estimate cannot turn into a busy loop.</summary>
    private static readonly TimeSpan MinModelLoadPoll = TimeSpan.FromMilliseconds(100);

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context)
    {
        context.EnableReloads<HuggingFaceOptions>();
        var options = context.ServiceProvider.GetRequiredService<IOptionsMonitor<HuggingFaceOptions>>().CurrentValue;

        pipeline
            .AddTimeout(new TimeoutStrategyOptions { Name = "total", Timeout = options.TotalTimeout })
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = "retry",
                // The real bounds are the two budgets checked in ShouldRetry (MaxRetries and MaxModelLoadWait).
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context, options)),
                DelayGenerator = args => ValueTask.FromResult(CallOf(args.Context)?.NextDelay),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                Name = "circuit",
                FailureRatio = options.CircuitFailureRatio,
                MinimumThroughput = options.CircuitMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(options.CircuitSamplingSeconds),
                BreakDuration = options.CircuitBreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsModelFailure(args.Outcome)),
            })
            .AddTimeout(new TimeoutStrategyOptions { Name = "attempt", Timeout = options.AttemptTimeout });
    }

    /// <summary>Decides whether to retry and, when it does, stores the delay on the call for the delay generator.</summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, HuggingFaceOptions options)
    {
        var call = CallOf(context);
        if (call is null)
        {
            return false;
        }

        call.NextDelay = null;
        switch (outcome.Exception)
        {
            case null:
                var reply = call.LastReply;
                return reply?.Kind switch
                {
                    HuggingFaceReplyKind.ModelLoading => WaitForModel(call, reply, options),
                    HuggingFaceReplyKind.RateLimited or HuggingFaceReplyKind.ServerError => RetryTransient(call, reply.RetryAfter, options),
                    _ => false,
                };
            case TimeoutRejectedException or HttpRequestException:
                return RetryTransient(call, null, options);
            default:
                // BrokenCircuitException (fail fast), the caller's cancellation, bugs: no retry.
                return false;
        }
    }

    private static bool RetryTransient(HuggingFaceCall call, TimeSpan? retryAfter, HuggingFaceOptions options)
    {
        if (call.TransientRetries >= options.MaxRetries || retryAfter > options.MaxRetryDelay)
        {
            return false;
        }

        call.TransientRetries++;
        call.NextDelay = retryAfter;
        return true;
    }

    private static bool WaitForModel(HuggingFaceCall call, HuggingFaceReply reply, HuggingFaceOptions options)
    {
        var remaining = options.MaxModelLoadWait - call.ModelLoadWaited;
        if (remaining <= TimeSpan.Zero)
        {
            return false;
        }

        var wait = reply.EstimatedLoadTime ?? options.RetryBaseDelay;
        wait = wait < MinModelLoadPoll ? MinModelLoadPoll : wait;
        wait = wait > remaining ? remaining : wait;
        call.ModelLoadWaited += wait;
        call.NextDelay = wait;
        return true;
    }

    internal static bool IsModelFailure(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException or HttpRequestException } => true,
        { Exception: null, Result: { } response } => (HuggingFaceCall.Of(response.RequestMessage)?.LastReply?.Kind
            ?? ((int)response.StatusCode >= 500 ? HuggingFaceReplyKind.ServerError : HuggingFaceReplyKind.Final)) == HuggingFaceReplyKind.ServerError,
        _ => false,
    };

    private static HuggingFaceCall? CallOf(ResilienceContext context) => HuggingFaceCall.Of(context.GetRequestMessage());
}

/// <summary>
/// Chooses the resilience pipeline of a call. Model ids come from clients, and every pipeline lives as long as the
/// process (its metrics are tagged with the key too), so only the first <c>HuggingFace:MaxTrackedModels</c> models
/// get their own; further models share one overflow pipeline.
/// </summary>
public sealed class HuggingFacePipelineKeys(IOptionsMonitor<HuggingFaceOptions> options)
{
    public const string Overflow = "(other models)";

    private readonly ConcurrentDictionary<string, byte> _models = new(StringComparer.Ordinal);

    public string For(string model)
    {
        if (_models.ContainsKey(model))
        {
            return model;
        }

        // Two racing first calls may both add: the bound is approximate by a few, which is harmless.
        return _models.Count < options.CurrentValue.MaxTrackedModels && _models.TryAdd(model, 0) || _models.ContainsKey(model)
            ? model
            : Overflow;
    }
}
