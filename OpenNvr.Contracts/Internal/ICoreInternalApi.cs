using Refit;

namespace OpenNvr.Contracts.Internal;

/// <summary>
/// Core's service-to-service routes (docs/internal-api.md), called by the Recorder over service discovery
/// (<c>http://core</c>) with <c>X-Internal-Key</c> (added by the client's shared-key handler, never here).
/// A non-success answer throws Refit's <see cref="ApiException"/>, whose content is Core's problem JSON.
/// </summary>
public interface ICoreInternalApi
{
    public const string BaseUrl = "http://core";

    [Post("/api/v1/internal/recorders/heartbeat")]
    Task<HeartbeatResponse> HeartbeatAsync([Body] HeartbeatRequest request, CancellationToken cancellationToken);

    [Post("/api/v1/internal/recordings")]
    Task<RegisterRecordingsResponse> RegisterRecordingsAsync([Body] RegisterRecordingsRequest request, CancellationToken cancellationToken);

    [Post("/api/v1/internal/recordings/query")]
    Task<RecordingsQueryResponse> QueryRecordingsAsync([Body] RecordingsQueryRequest request, CancellationToken cancellationToken);

    [Post("/api/v1/internal/recordings/delete")]
    Task<RecordingsDeleteResponse> DeleteRecordingsAsync([Body] RecordingsDeleteRequest request, CancellationToken cancellationToken);

    [Post("/api/v1/internal/cameras/{cameraId}/state")]
    Task ReportCameraStateAsync(int cameraId, [Body] CameraStateRequest request, CancellationToken cancellationToken);

    [Post("/api/v1/internal/events")]
    Task<IngestEventsResponse> IngestEventsAsync([Body] IngestEventsRequest request, CancellationToken cancellationToken);

    /// <summary>Which Recorder holds the camera now (Inference, to read its frames); 404 problem when none does.</summary>
    [Get("/api/v1/internal/cameras/{cameraId}/holder")]
    Task<CameraHolderResponse> GetCameraHolderAsync(int cameraId, CancellationToken cancellationToken);

    [Post("/api/v1/internal/occupancy")]
    Task<IngestOccupancyResponse> IngestOccupancyAsync([Body] IngestOccupancyRequest request, CancellationToken cancellationToken);
}
