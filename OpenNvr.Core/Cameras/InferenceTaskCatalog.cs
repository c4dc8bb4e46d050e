using OpenNvr.Contracts.Inference;
using OpenNvr.Core.Telemetry;
using Refit;

namespace OpenNvr.Core.Cameras;

/// <summary>The outcome of checking policy tasks: a problem (400) or an acceptance, possibly with a warning.</summary>
public sealed record TaskCheck(string? Problem, string? Warning);

/// <summary>
/// Which tasks an AI policy may name: those Inference lists in <c>GET /capabilities</c> (Refit <see cref="IInferenceApi"/>, service discovery
/// <c>http://inference</c>, or <c>WebConsole:InferenceUrl</c>), cached for 30 s. When Inference cannot be reached (or
/// answers nonsense) the names of the tasks OpenNVR's Inference can offer are accepted, with a warning saying that
/// the check was partial, and the answer is remembered for 10 s so that a dead Inference costs one short wait.
/// </summary>
public sealed class InferenceTaskCatalog(IHttpClientFactory clients, TimeProvider clock, ILogger<InferenceTaskCatalog> logger)
{
    public const string HttpClientName = "inference-capabilities";

    /// <summary>Every task OpenNVR's Inference can offer (local models and the Hugging Face route), API.md.</summary>
    public static readonly IReadOnlySet<string> KnownTasks = new HashSet<string>(StringComparer.Ordinal)
    {
        "person_detection", "person_counting", "object_detection", "face_detection", "face_recognition", "face_verify",
        "watchlist_check", "face_embedding", "object_detection_detr", "object-detection", "image-classification", "image-to-text",
    };

    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Unreachable = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (IReadOnlySet<string>? Tasks, string? Error, DateTimeOffset At)? _cached;

    /// <summary>Checks the tasks of a policy list (in order, for the index in the problem).</summary>
    public async Task<TaskCheck> CheckAsync(IReadOnlyList<string> tasks, CancellationToken ct)
    {
        if (tasks.Count == 0)
        {
            return new TaskCheck(null, null);
        }

        var (offered, error) = await CapabilitiesAsync(ct);
        for (var i = 0; i < tasks.Count; i++)
        {
            if (offered is not null && !offered.Contains(tasks[i]))
            {
                return new TaskCheck(
                    $"ai_policies[{i}].task '{tasks[i]}' is not offered by Inference; it offers: {string.Join(", ", offered.Order(StringComparer.Ordinal))}.", null);
            }

            if (offered is null && !KnownTasks.Contains(tasks[i]))
            {
                return new TaskCheck(
                    $"ai_policies[{i}].task '{tasks[i]}' is not a task OpenNVR knows, and Inference could not be asked for its capabilities ({error}).", null);
            }
        }

        return new TaskCheck(null, offered is null
            ? $"Inference could not be reached ({error}): the tasks were checked against the tasks OpenNVR knows, not against what Inference has loaded."
            : null);
    }

    /// <summary>No answer or an error status, as opposed to a 2xx whose body is not the contract.</summary>
    private static bool IsNoAnswer(Exception ex) => ex is not (InvalidOperationException or ApiException { StatusCode: >= System.Net.HttpStatusCode.OK and < System.Net.HttpStatusCode.Ambiguous });

    private async Task<(IReadOnlySet<string>? Tasks, string? Error)> CapabilitiesAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var now = clock.GetUtcNow();
            if (_cached is { } c && now - c.At < (c.Tasks is null ? Unreachable : Fresh))
            {
                return (c.Tasks, c.Error);
            }

            try
            {
                var capabilities = await clients.ClientAt<IInferenceApi>(HttpClientName).GetCapabilitiesAsync(ct);
                var tasks = (capabilities.Tasks ?? throw new InvalidOperationException("its answer has no tasks"))
                    .OfType<string>().ToHashSet(StringComparer.Ordinal);
                _cached = (tasks, null, now);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or ApiException
                                           or InvalidOperationException or Polly.ExecutionRejectedException
                                       && !ct.IsCancellationRequested)
            {
                CoreLog.InferenceCapabilitiesUnavailable(logger, ex.Message);
                _cached = (null, IsNoAnswer(ex) ? "unreachable" : "its /capabilities answer was not understood", now);
            }

            return (_cached.Value.Tasks, _cached.Value.Error);
        }
        finally
        {
            _gate.Release();
        }
    }
}
