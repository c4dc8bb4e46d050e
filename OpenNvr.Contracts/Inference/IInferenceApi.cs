using Refit;

namespace OpenNvr.Contracts.Inference;

/// <summary>
/// Inference's AI adapter routes that the other services call over service discovery (<c>http://inference</c>), with
/// <c>X-API-Key</c> added by the shared-key handler. <c>/infer</c> and the face routes return the answer as it came
/// (any status): the Recorder reads a task's result (its shape depends on the task) or the problem's detail, and Core's
/// console passes Inference's answers, problem JSON included, through to the browser.
/// </summary>
public interface IInferenceApi
{
    public const string BaseUrl = "http://inference";

    [Get("/capabilities")]
    Task<CapabilitiesResponse> GetCapabilitiesAsync(CancellationToken cancellationToken);

    [Post("/infer")]
    Task<HttpResponseMessage> InferAsync([Body] InferRequest request, CancellationToken cancellationToken);

    [Get("/faces/list")]
    [Headers("Accept: application/json")]
    Task<HttpResponseMessage> ListFacesAsync(string? category, CancellationToken cancellationToken);

    [Get("/faces/{personId}")]
    [Headers("Accept: application/json")]
    Task<HttpResponseMessage> GetFaceAsync(string personId, CancellationToken cancellationToken);

    [Delete("/faces/{personId}")]
    [Headers("Accept: application/json")]
    Task<HttpResponseMessage> DeleteFaceAsync(string personId, CancellationToken cancellationToken);

    [Post("/faces/register")]
    [Headers("Accept: application/json")]
    Task<HttpResponseMessage> RegisterFaceAsync([Body] FaceRegisterRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// <c>/faces/register</c> with the photo in the body (multipart/form-data), for a caller that shares no frames
    /// folder with Inference (Core's console). Empty <paramref name="category"/> and <paramref name="metadata"/> (the
    /// text of a JSON object) count as absent.
    /// </summary>
    [Multipart]
    [Post("/faces/register")]
    [Headers("Accept: application/json")]
    Task<HttpResponseMessage> RegisterFacePhotoAsync([AliasAs("image")] ByteArrayPart image, [AliasAs("person_id")] string personId,
        [AliasAs("name")] string name, [AliasAs("category")] string category, [AliasAs("metadata")] string metadata, CancellationToken cancellationToken);
}
