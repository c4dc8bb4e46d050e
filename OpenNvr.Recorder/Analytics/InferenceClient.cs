using System.Net;
using System.Text.Json;
using OpenNvr.Contracts.Inference;

namespace OpenNvr.Recorder.Analytics;

/// <summary>Inference answered with an error status (the detail of its problem JSON).</summary>
public sealed class InferenceFailedException(HttpStatusCode status, string detail)
    : Exception($"Inference answered {(int)status}: {detail}")
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// Inference's <c>POST /infer</c> through the Refit client <see cref="IInferenceApi"/> (service discovery
/// <c>http://inference</c>, <c>X-API-Key</c> from <c>Inference:ApiKey</c>). The HttpClient carries a short timeout and
/// a circuit breaker (Extensions.cs), so a dead Inference costs one fast failure per frame, and HttpClient
/// instrumentation sends the frame's trace as <c>traceparent</c>. A task's result is a JSON object whose shape depends
/// on the task, so it comes back as one.
/// </summary>
public sealed class InferenceClient(IInferenceApi inference)
{
    public Task<JsonElement> InferAsync(string task, string frameUri, CancellationToken ct) => InferAsync(InferRequest.ForFrame(task, frameUri), ct);

    /// <summary>A face task on one part of a frame (<c>input.region</c>): the face of one tracked person.</summary>
    public Task<JsonElement> RecogniseFaceAsync(string task, string frameUri, FrameRegion region, CancellationToken ct) =>
        InferAsync(InferRequest.ForFaceRegion(task, frameUri, region), ct);

    private async Task<JsonElement> InferAsync(InferRequest request, CancellationToken ct)
    {
        using var response = await inference.InferAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InferenceFailedException(response.StatusCode, ProblemDetail(body));
        }

        using var doc = JsonDocument.Parse(body);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InferenceFailedException(response.StatusCode, "the answer is not a JSON object");
        }

        return doc.RootElement.Clone();
    }

    private static string ProblemDetail(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
            {
                return d.GetString() ?? "";
            }
        }
        catch (JsonException)
        {
        }

        var text = System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)));
        return text.Length == 0 ? "(empty body)" : text;
    }
}
