using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Apis;

/// <summary>
/// Reads a <c>POST /infer</c> body by hand rather than by model binding, so that every malformed body gets a 4xx
/// problem naming what was wrong (binding would answer a generic 400 or, for some shapes, bind nulls silently).
/// </summary>
internal static class InferenceRequestReader
{
    private const int MaxTaskNameLength = 128;

    public static async Task<InferenceRequest> ReadAsync(HttpRequest http, int maxBytes, CancellationToken cancellationToken)
    {
        if (http.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        if (http.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        if (http.ContentType is { } contentType && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            throw new InferenceProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported request body",
                $"The request body must be JSON (Content-Type application/json), not '{contentType}'.");
        }

        var body = await ReadBodyAsync(http, maxBytes, cancellationToken);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            throw InferenceProblemException.BadRequest($"The request body is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw InferenceProblemException.BadRequest($"The request body must be a JSON object, not {InferenceRequest.Describe(root)}.");
            }

            if (!root.TryGetProperty("task", out var task) || task.ValueKind == JsonValueKind.Null)
            {
                throw InferenceProblemException.BadRequest("\"task\" is required, e.g. {\"task\":\"person_counting\",\"input\":{\"frame\":{\"uri\":\"opennvr://frames/camera_0/latest.jpg\"}}}.");
            }

            if (task.ValueKind != JsonValueKind.String)
            {
                throw InferenceProblemException.BadRequest($"\"task\" must be a string, not {InferenceRequest.Describe(task)}.");
            }

            var name = task.GetString()!;
            if (name.Length is 0 or > MaxTaskNameLength)
            {
                throw InferenceProblemException.BadRequest($"\"task\" must be 1 to {MaxTaskNameLength} characters long.");
            }

            return new InferenceRequest(name, OptionalObject(root, "input"), OptionalObject(root, "input_data"),
                http.HttpContext.RequestServices.GetRequiredService<TimeProvider>());
        }
    }

    private static JsonElement? OptionalObject(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        // Cloned so that it outlives the document (the request body is small: this is cheap).
        return value.ValueKind == JsonValueKind.Object
            ? value.Clone()
            : throw InferenceProblemException.BadRequest($"\"{name}\" must be an object, not {InferenceRequest.Describe(value)}.");
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest http, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            int read;
            while ((read = await http.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(maxBytes);
        }

        if (buffer.Length == 0)
        {
            throw InferenceProblemException.BadRequest("The request body is empty; send {\"task\":...,\"input\":{...}}.");
        }

        return buffer.ToArray();
    }

    private static InferenceProblemException TooLarge(int maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, "Request body too large",
            $"The request body exceeds {maxBytes} bytes (Inference:MaxRequestBytes); frames are sent by URI, not inline.");
}
