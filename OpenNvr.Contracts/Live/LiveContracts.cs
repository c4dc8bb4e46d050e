namespace OpenNvr.Contracts.Live;

/// <summary>A camera stream's live state on the Recorder replica that holds it (<c>stream</c>: main or sub).</summary>
public sealed record LiveStreamStatus(string Stream, bool Live, string? Codec, int? Width, int? Height, int Viewers, long Fragments);

/// <summary>The Recorder's <c>GET /live/{camera}/status</c>.</summary>
public sealed record LiveStatusResponse(int CameraId, IReadOnlyList<LiveStreamStatus> Streams);
