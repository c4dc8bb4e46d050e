using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Frames;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Apis;

/// <summary>
/// A face registration with the photo in the request body (multipart/form-data), so that Core hands Inference a
/// console upload or an event snapshot without any folder in common: the part <c>image</c> (JPEG or PNG, at most
/// <c>Inference:MaxFrameBytes</c>) and the JSON body's fields as form values (<c>person_id</c>, <c>name</c>,
/// <c>category</c>, <c>metadata</c> as the text of a JSON object, <c>replace</c>), checked by the same rules as the
/// JSON body; an empty value counts as absent. The embedding's source is recorded as <c>upload:sha256:&lt;hash&gt;</c>.
/// </summary>
internal static class FacePhotoForm
{
    public const string ImagePart = "image";

    /// <summary>What a form adds to the photo: boundaries, part headers and the text fields (metadata at most 4 KB).</summary>
    private const long FormOverheadBytes = 64 * 1024;

    /// <summary>How an upload is named in problem details (it is no published frame).</summary>
    public static readonly FrameReference Reference = new("upload", "photo.jpg");

    private static readonly string[] TextFields = ["person_id", "name", "category"];

    public static async Task<(FaceRegistration Registration, string Source, byte[] Photo)> ReadAsync(HttpRequest request, long maxPhotoBytes, CancellationToken ct)
    {
        var limit = maxPhotoBytes + FormOverheadBytes;
        if (request.ContentLength > limit)
        {
            throw TooLarge(maxPhotoBytes);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(maxPhotoBytes);
        }
        catch (InvalidDataException ex)
        {
            throw FacesApi.Invalid($"The multipart form could not be read: {ex.Message}");
        }

        var image = form.Files.GetFile(ImagePart);
        if (image is null || image.Length == 0)
        {
            throw FacesApi.Invalid("image is required: a JPEG or PNG photo showing exactly one face.");
        }

        if (image.Length > maxPhotoBytes)
        {
            throw TooLarge(maxPhotoBytes);
        }

        using var buffer = new MemoryStream((int)image.Length);
        await image.CopyToAsync(buffer, ct);
        var photo = buffer.ToArray();

        // The form as the JSON body it stands for, so that one set of rules checks both.
        var body = new JsonObject { ["frame"] = new JsonObject { ["uri"] = Reference.ToString() } };
        foreach (var field in TextFields)
        {
            if (Value(form, field) is { } value)
            {
                body[field] = value;
            }
        }

        if (Value(form, "metadata") is { } metadata)
        {
            try
            {
                body["metadata"] = JsonNode.Parse(metadata, documentOptions: new JsonDocumentOptions { MaxDepth = 16 });
            }
            catch (JsonException ex)
            {
                throw FacesApi.Invalid($"metadata must be the text of a JSON object: {ex.Message}");
            }
        }

        if (Value(form, "replace") is { } replace)
        {
            body["replace"] = bool.TryParse(replace, out var flag) ? flag : throw FacesApi.Invalid($"replace must be true or false, not '{replace}'.");
        }

        using var document = JsonSerializer.SerializeToDocument(body);
        var (registration, _) = FacesApi.Validate(document.RootElement);
        return (registration, "upload:sha256:" + Convert.ToHexStringLower(SHA256.HashData(photo)), photo);
    }

    private static string? Value(IFormCollection form, string name) =>
        form.TryGetValue(name, out var values) && values.ToString() is { Length: > 0 } value ? value : null;

    private static InferenceProblemException TooLarge(long maxPhotoBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, "Photo too large",
            $"The photo exceeds {maxPhotoBytes.ToString(CultureInfo.InvariantCulture)} bytes (Inference:MaxFrameBytes).");
}
