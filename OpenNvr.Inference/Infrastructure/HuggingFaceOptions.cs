using System.Globalization;
using Microsoft.Extensions.Options;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>
/// Configuration section <c>HuggingFace</c>: where the Hugging Face Inference API is, the token, and every limit of
/// the resilience pipeline around it. The cloud tasks exist only when <see cref="Token"/> is set.
/// </summary>
public sealed class HuggingFaceOptions
{
    public const string Section = "HuggingFace";
    public const string DefaultBaseUrl = "https://api-inference.huggingface.co";

    /// <summary>
    /// Base of <c>POST {BaseUrl}/models/{model}</c>. A path is kept, so the newer router form
    /// <c>https://router.huggingface.co/hf-inference</c> works too.
    /// </summary>
    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>The access token sent as <c>Authorization: Bearer</c>; never logged. Unset: no cloud task is offered.</summary>
    public string? Token { get; set; }

    /// <summary>Longest wait for one HTTP attempt before it counts as a timeout (and is retried).</summary>
    public double AttemptTimeoutSeconds { get; set; } = 30;

    /// <summary>Longest time for one call, retries and model-loading waits included; beyond it the call fails with 504.</summary>
    public double TotalTimeoutSeconds { get; set; } = 120;

    /// <summary>Retries after a transient failure (429, 5xx, 408, timeout, connection error); 0 disables them.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>First backoff delay; later ones grow exponentially with jitter.</summary>
    public double RetryBaseDelaySeconds { get; set; } = 1;

    /// <summary>
    /// Cap of the backoff delay, and the longest <c>Retry-After</c> honoured: when Hugging Face asks for a longer
    /// pause, the call gives up at once with 503 and passes the <c>Retry-After</c> on rather than retrying too early.
    /// </summary>
    public double MaxRetryDelaySeconds { get; set; } = 30;

    /// <summary>
    /// How long, in total, a call may wait for a model that Hugging Face reports as loading (503 with
    /// <c>estimated_time</c>): each wait is the estimate, capped by what is left of this budget.
    /// </summary>
    public double MaxModelLoadWaitSeconds { get; set; } = 60;

    /// <summary>Share of failed attempts (5xx, timeouts, connection errors) within the sampling window that opens a model's circuit.</summary>
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>Attempts a model must have had within the sampling window before its circuit may open.</summary>
    public int CircuitMinimumThroughput { get; set; } = 4;

    public double CircuitSamplingSeconds { get; set; } = 60;

    /// <summary>How long an open circuit rejects calls to its model (503 with <c>Retry-After</c>) before one trial call.</summary>
    public double CircuitBreakSeconds { get; set; } = 30;

    /// <summary>
    /// Models that get their own circuit breaker. Model ids come from clients, so pipelines are not created without
    /// bound: calls to further models share one overflow pipeline (and its circuit).
    /// </summary>
    public int MaxTrackedModels { get; set; } = 100;

    /// <summary>When not empty, the only models that may be called (case-insensitive); others get 403.</summary>
    public string[] AllowedModels { get; set; } = [];

    /// <summary>Largest reply body read from Hugging Face.</summary>
    public int MaxResponseBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Model of <c>object_detection_detr</c> / <c>object-detection</c> when the request names none.</summary>
    public string ObjectDetectionModel { get; set; } = "facebook/detr-resnet-50";

    /// <summary>Model of <c>image-classification</c> when the request names none.</summary>
    public string ImageClassificationModel { get; set; } = "google/vit-base-patch16-224";

    /// <summary>Model of <c>image-to-text</c> when the request names none.</summary>
    public string ImageToTextModel { get; set; } = "Salesforce/blip-image-captioning-base";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Token);

    /// <summary>Why the cloud tasks are unavailable without a token, and the two ways to set one (app host, or Inference alone).</summary>
    public const string NoTokenReason =
        "cloud routing to Hugging Face needs a token and none is configured. Under the app host set the parameter " +
        "Parameters:hf-token (dotnet user-secrets set Parameters:hf-token <hf_token> --project OpenNvr.AppHost, or the " +
        "environment variable Parameters__hf-token); running Inference on its own set HuggingFace:Token (environment " +
        "variable HuggingFace__Token). Then restart Inference.";

    public TimeSpan AttemptTimeout => TimeSpan.FromSeconds(AttemptTimeoutSeconds);

    public TimeSpan TotalTimeout => TimeSpan.FromSeconds(TotalTimeoutSeconds);

    public TimeSpan RetryBaseDelay => TimeSpan.FromSeconds(RetryBaseDelaySeconds);

    public TimeSpan MaxRetryDelay => TimeSpan.FromSeconds(MaxRetryDelaySeconds);

    public TimeSpan MaxModelLoadWait => TimeSpan.FromSeconds(MaxModelLoadWaitSeconds);

    public TimeSpan CircuitBreakDuration => TimeSpan.FromSeconds(CircuitBreakSeconds);

    public bool IsAllowed(string model) =>
        AllowedModels.Length == 0 || AllowedModels.Contains(model, StringComparer.OrdinalIgnoreCase);

    // The token is the one secret here: keep it out of any accidental ToString() in logs or debugger displays.
    public override string ToString() =>
        $"HuggingFace {{ BaseUrl = {BaseUrl}, Token = {(IsConfigured ? "(set)" : "(not set)")} }}";
}

/// <summary>
/// Checked at start-up: a limit out of range would otherwise surface as an exception from Polly on the first cloud
/// call. The bounds are Polly's own (timeouts from 10 ms, break and sampling durations from 0.5 s, throughput from 2).
/// </summary>
internal sealed class HuggingFaceOptionsValidator : IValidateOptions<HuggingFaceOptions>
{
    public ValidateOptionsResult Validate(string? name, HuggingFaceOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https")
            || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.UserInfo))
        {
            failures.Add($"HuggingFace:BaseUrl must be an absolute http(s) URL without query or credentials, not '{options.BaseUrl}'.");
        }

        Range(failures, "AttemptTimeoutSeconds", options.AttemptTimeoutSeconds, 0.01, 3600);
        Range(failures, "TotalTimeoutSeconds", options.TotalTimeoutSeconds, 0.01, 86400);
        if (options.TotalTimeoutSeconds < options.AttemptTimeoutSeconds)
        {
            failures.Add("HuggingFace:TotalTimeoutSeconds must not be shorter than HuggingFace:AttemptTimeoutSeconds.");
        }

        Range(failures, "MaxRetries", options.MaxRetries, 0, 20);
        Range(failures, "RetryBaseDelaySeconds", options.RetryBaseDelaySeconds, 0.001, 3600);
        Range(failures, "MaxRetryDelaySeconds", options.MaxRetryDelaySeconds, options.RetryBaseDelaySeconds, 3600);
        Range(failures, "MaxModelLoadWaitSeconds", options.MaxModelLoadWaitSeconds, 0, 3600);
        Range(failures, "CircuitFailureRatio", options.CircuitFailureRatio, 0.01, 1);
        Range(failures, "CircuitMinimumThroughput", options.CircuitMinimumThroughput, 2, 10000);
        Range(failures, "CircuitSamplingSeconds", options.CircuitSamplingSeconds, 0.5, 86400);
        Range(failures, "CircuitBreakSeconds", options.CircuitBreakSeconds, 0.5, 86400);
        Range(failures, "MaxTrackedModels", options.MaxTrackedModels, 1, 100_000);
        Range(failures, "MaxResponseBytes", options.MaxResponseBytes, 1024, 256 * 1024 * 1024);
        foreach (var (key, model) in new[]
                 {
                     ("ObjectDetectionModel", options.ObjectDetectionModel),
                     ("ImageClassificationModel", options.ImageClassificationModel),
                     ("ImageToTextModel", options.ImageToTextModel),
                 }.Concat(options.AllowedModels.Select((m, i) => ($"AllowedModels:{i}", m))))
        {
            if (HuggingFaceModelId.Check(model) is { } problem)
            {
                failures.Add($"HuggingFace:{key}: {problem}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string key, double value, double min, double max)
    {
        if (!double.IsFinite(value) || value < min || value > max)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"HuggingFace:{key} must be between {min} and {max}, not {value}."));
        }
    }
}
