namespace OpenNvr.Contracts.Internal;

/// <summary>
/// <c>GET /api/v1/internal/cameras/{id}/holder</c>: the Recorder that holds the camera's lease now and the address it
/// announced in its heartbeat. Inference reads a camera's frames there (never through service discovery's round robin,
/// which does not know which replica records which camera).
/// </summary>
public sealed record CameraHolderResponse(int CameraId, string RecorderId, string BaseUrl);
