using System.Diagnostics;
using System.Net;
using System.Text.Json;
using OpenNvr.Contracts.Internal;
using OpenNvr.Recorder.Telemetry;
using Refit;

namespace OpenNvr.Recorder.Infrastructure;

/// <summary>Core answered with a 4xx: retrying the same request cannot succeed.</summary>
public sealed class CoreRejectedException(HttpStatusCode status, string detail)
    : Exception($"Core refused the request ({(int)status}): {detail}")
{
    public HttpStatusCode Status { get; } = status;

    public string Detail { get; } = detail;
}

/// <summary>
/// Core's internal routes through the Refit client <see cref="ICoreInternalApi"/>, with a client span per call.
/// Failures surface as exceptions; callers decide how to wait and retry (the outbox keeps every registration until
/// Core acknowledges it): a 4xx that a retry cannot cure is a <see cref="CoreRejectedException"/>, anything else
/// (5xx, 401 while keys rotate, 408, 429, no answer) an <see cref="HttpRequestException"/>.
/// </summary>
public sealed class CoreClient(ICoreInternalApi core)
{
    public Task<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, CancellationToken ct) =>
        CallAsync(() => core.HeartbeatAsync(request, ct));

    public async Task<RegisterRecordingsResponse> RegisterAsync(IReadOnlyList<ChunkRegistration> chunks, CancellationToken ct)
    {
        using var activity = RecorderTelemetry.ActivitySource.StartActivity("recordings.register", ActivityKind.Client);
        activity?.SetTag("recordings.count", chunks.Count);
        var response = await CallAsync(() => core.RegisterRecordingsAsync(new RegisterRecordingsRequest(chunks), ct));
        activity?.SetTag("recordings.inserted", response.Inserted);
        activity?.SetTag("recordings.duplicates", response.Duplicates);
        return response;
    }

    public Task<RecordingsQueryResponse> QueryAsync(int cameraId, double? olderThanUnix, int limit, CancellationToken ct) =>
        CallAsync(() => core.QueryRecordingsAsync(new RecordingsQueryRequest(cameraId, olderThanUnix, limit), ct));

    public async Task<int> DeleteAsync(int cameraId, IReadOnlyList<string> paths, CancellationToken ct) =>
        (await CallAsync(() => core.DeleteRecordingsAsync(new RecordingsDeleteRequest(cameraId, paths), ct))).Deleted;

    public async Task<IngestEventsResponse> IngestEventsAsync(IReadOnlyList<EventIngest> events, CancellationToken ct)
    {
        using var activity = RecorderTelemetry.ActivitySource.StartActivity("events.send", ActivityKind.Client);
        activity?.SetTag("events.count", events.Count);
        return await CallAsync(() => core.IngestEventsAsync(new IngestEventsRequest(events), ct));
    }

    public async Task<IngestOccupancyResponse> IngestOccupancyAsync(IReadOnlyList<OccupancyBucketIngest> buckets, CancellationToken ct)
    {
        using var activity = RecorderTelemetry.ActivitySource.StartActivity("occupancy.send", ActivityKind.Client);
        activity?.SetTag("occupancy.buckets", buckets.Count);
        return await CallAsync(() => core.IngestOccupancyAsync(new IngestOccupancyRequest(buckets), ct));
    }

    public async Task ReportStateAsync(int cameraId, CameraStateRequest state, CancellationToken ct)
    {
        using var activity = RecorderTelemetry.ActivitySource.StartActivity("camera.state", ActivityKind.Client);
        activity?.SetTag("camera.id", cameraId);
        activity?.SetTag("camera.state", state.RecordingState);
        await CallAsync(async () =>
        {
            await core.ReportCameraStateAsync(cameraId, state, ct);
            return true;
        });
    }

    private static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (ApiException ex)
        {
            var detail = ProblemDetail(ex.Content);
            if ((int)ex.StatusCode is >= 400 and < 500 and not 401 and not 408 and not 429)
            {
                throw new CoreRejectedException(ex.StatusCode, detail);
            }

            throw new HttpRequestException($"Core answered {(int)ex.StatusCode}: {detail}", ex, ex.StatusCode);
        }
    }

    /// <summary>The <c>detail</c> of a problem answer, else the body as it came.</summary>
    private static string ProblemDetail(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return "";
        }

        try
        {
            using var problem = JsonDocument.Parse(body);
            return problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("detail", out var d) &&
                   d.ValueKind == JsonValueKind.String
                ? d.GetString() ?? body
                : body;
        }
        catch (JsonException)
        {
            return body;
        }
    }
}
