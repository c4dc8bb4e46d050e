using Refit;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>
/// The Hugging Face Inference API endpoint the cloud tasks use. The bearer token is added by
/// <see cref="HuggingFaceAuthHandler"/>, retries, timeouts and the per-model circuit breaker by the resilience handler
/// registered in <see cref="HuggingFaceServiceCollectionExtensions"/>.
/// </summary>
public interface IHuggingFaceApi
{
    /// <summary>
    /// <c>POST {BaseUrl}/models/{model}</c>. <c>{**model}</c> is Refit's round-trip form: each <c>/</c>-separated
    /// segment is escaped but the slashes stay, so <c>facebook/detr-resnet-50</c> reaches <c>/models/facebook/detr-resnet-50</c>.
    /// The reply is returned as is (any status): <see cref="HuggingFaceClient"/> reads error bodies to tell a loading
    /// model, a missing model and a rejected token apart.
    /// </summary>
    /// <param name="model">A model id already checked by <see cref="HuggingFaceModelId"/>.</param>
    /// <param name="content">The image bytes (or the JSON form with parameters); sent as given.</param>
    /// <param name="call">Per-call state read by the handlers and the resilience pipeline (stored in the request options).</param>
    [Post("/models/{**model}")]
    Task<HttpResponseMessage> InferAsync(
        string model,
        [Body] HttpContent content,
        [Property(HuggingFaceCall.OptionsKeyName)] HuggingFaceCall call,
        CancellationToken cancellationToken);
}
