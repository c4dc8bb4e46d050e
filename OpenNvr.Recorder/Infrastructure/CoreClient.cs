using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Infrastructure;

public sealed record HeartbeatRequest(string RecorderId, string BaseUrl, int MaxCameras);

/// <summary>An AI policy of a camera; <c>roi</c> is a polygon of [x, y] points normalised to 0..1 of the frame.</summary>
public sealed record AiPolicy(int? Id, string Task, int IntervalMs, bool Enabled, double MinConfidence, bool MotionGating, double[][]? Roi = null);

/// <summary>A camera as Core's heartbeat answer describes it (stream URLs carry credentials: never log them).</summary>
public sealed record CameraConfig(
    int Id,
    string Name,
    bool Enabled,
    bool RecordingEnabled,
    string StreamUrl,
    string? SubStreamUrl,
    int RetentionDays,
    long? StorageQuotaBytes,
    IReadOnlyList<AiPolicy>? AiPolicies)
{
    public bool IsAnalysed => AiPolicies?.Any(p => p.Enabled) == true;

    /// <summary>What the recording process depends on: a change restarts ffmpeg.</summary>
    public bool SameRecordingSource(CameraConfig other) => StreamUrl == other.StreamUrl && Enabled == other.Enabled && RecordingEnabled == other.RecordingEnabled;
}

public sealed record HeartbeatResponse(int LeaseSeconds, IReadOnlyList<CameraConfig> Cameras);

public sealed record ChunkRegistration(
    int CameraId,
    string Path,
    double StartUnix,
    double EndUnix,
    double DurationS,
    long SizeBytes,
    string? Codec,
    int? Width,
    int? Height);

public sealed record RegisterRequest(IReadOnlyList<ChunkRegistration> Recordings);

public sealed record RegisterResponse(int Inserted, int Duplicates);

public sealed record IndexedChunk(long Id, string Path, double StartUnix, double EndUnix, long SizeBytes, bool IsEvidence);

public sealed record RecordingsQueryResponse(int CameraId, IReadOnlyList<IndexedChunk> Recordings, long TotalBytes, int Count);

/// <summary>
/// One AI event for Core's ingest (docs/internal-api.md): <c>trace_id</c> and <c>traceparent</c> name the frame's
/// trace so that Core's insert span joins it.
/// </summary>
public sealed record EventIngest(
    int CameraId,
    string Task,
    string? Label,
    int? Count,
    double? Confidence,
    IReadOnlyList<double[]>? Bbox,
    string? SnapshotPath,
    long ExecutedAtUnixMs,
    long CapturedAtUnixMs,
    double? LatencyMs,
    string? TraceId,
    string? Traceparent,
    JsonElement? Payload);

public sealed record IngestEventsResponse(int Inserted);

public sealed record CameraStateRequest(string RecordingState, string? Reason, double? LastRecordingAtUnix);

/// <summary>Core answered with a 4xx: retrying the same request cannot succeed.</summary>
public sealed class CoreRejectedException(HttpStatusCode status, string detail)
    : Exception($"Core refused the request ({(int)status}): {detail}")
{
    public HttpStatusCode Status { get; } = status;

    public string Detail { get; } = detail;
}

/// <summary>
/// Core's internal routes (docs/internal-api.md) over service discovery (<c>http://core</c>), authenticated with
/// <c>X-Internal-Key</c>. Failures surface as exceptions; callers decide how to wait and retry (the outbox keeps
/// every registration until Core acknowledges it).
/// </summary>
public sealed class CoreClient(HttpClient http)
{
    public const string HttpClientName = "core";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public Task<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, CancellationToken ct) =>
        PostAsync<HeartbeatResponse>("api/v1/internal/recorders/heartbeat", request, ct);

    public async Task<RegisterResponse> RegisterAsync(IReadOnlyList<ChunkRegistration> chunks, CancellationToken ct)
    {
        using var activity = RecorderTelemetry.ActivitySource.StartActivity("recordings.register", ActivityKind.Client);
        activity?.SetTag("recordings.count", chunks.Count);
        var response = await PostAsync<RegisterResponse>("api/v1/internal/recordings", new RegisterRequest(chunks), ct);
        activity?.SetTag("recordings.inserted", response.Inserted);
        activity?.SetTag("recordings.duplicates", response.Duplicates);
        return response;
    }

    public Task<RecordingsQueryResponse> QueryAsync(int cameraId, double? olderThanUnix, int limit, CancellationToken ct) =>
        PostAsync<RecordingsQueryResponse>("api/v1/internal/recordings/query",
            new { camera_id = cameraId, older_than_unix = olderThanUnix, limit }, ct);

    public async Task<int> DeleteAsync(int cameraId, IReadOnlyList<string> paths, CancellationToken ct)
    {
        var response = await PostAsync<JsonElement>("api/v1/internal/recordings/delete", new { camera_id = cameraId, paths }, ct);
        return response.GetProperty("deleted").GetInt32();
    }

    public async Task<IngestEventsResponse> IngestEventsAsync(IReadOnlyList<EventIngest> events, CancellationToken ct)
    {
        using var activity = RecorderTelemetry.ActivitySource.StartActivity("events.send", ActivityKind.Client);
        activity?.SetTag("events.count", events.Count);
        return await PostAsync<IngestEventsResponse>("api/v1/internal/events", new { events }, ct);
    }

    public async Task ReportStateAsync(int cameraId, CameraStateRequest state, CancellationToken ct)
    {
        using var activity = RecorderTelemetry.ActivitySource.StartActivity("camera.state", ActivityKind.Client);
        activity?.SetTag("camera.id", cameraId);
        activity?.SetTag("camera.state", state.RecordingState);
        using var response = await http.PostAsJsonAsync($"api/v1/internal/cameras/{cameraId}/state", state, Json, ct);
        await EnsureSuccessAsync(response, ct);
    }

    private async Task<T> PostAsync<T>(string path, object body, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(path, body, Json, ct);
        await EnsureSuccessAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(ct);
        var detail = body;
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
            {
                detail = d.GetString() ?? body;
            }
        }
        catch (JsonException)
        {
        }

        if ((int)response.StatusCode is >= 400 and < 500 and not 401 and not 408 and not 429)
        {
            throw new CoreRejectedException(response.StatusCode, detail);
        }

        throw new HttpRequestException($"Core answered {(int)response.StatusCode}: {detail}", null, response.StatusCode);
    }
}
