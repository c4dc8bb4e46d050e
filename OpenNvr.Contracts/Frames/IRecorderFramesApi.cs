using Refit;

namespace OpenNvr.Contracts.Frames;

/// <summary>
/// The Recorder's <c>GET /frames/{camera}/{file}</c>: published frames for Inference on another host
/// (<c>http://recorder</c>) and for Core's live view (the base URL of the replica that holds the camera's lease).
/// The answer comes back as it is (any status, body not yet read), so that callers can bound what they read and tell
/// a missing frame (404 problem) from a failing Recorder. <c>X-Internal-Key</c> is added by the shared-key handler.
/// </summary>
public interface IRecorderFramesApi
{
    public const string BaseUrl = "http://recorder";

    [Get("/frames/{camera}/{file}")]
    [Headers("Accept: image/*")]
    Task<HttpResponseMessage> GetFrameAsync(string camera, string file, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an annotated image (<see cref="FrameNames.AnnotatedFile"/>, a JPEG) in the camera's frame folder of the
    /// Recorder, for Inference on another host (<c>input.options.annotate</c>): 201 when stored, 404 when the Recorder
    /// has no such camera folder. The answer comes back as it is, like <see cref="GetFrameAsync"/>.
    /// </summary>
    [Put("/frames/{camera}/{file}")]
    Task<HttpResponseMessage> PutAnnotatedFrameAsync(string camera, string file, [Body] HttpContent jpeg, CancellationToken cancellationToken);
}
