using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Frames;
using OpenNvr.Inference.Security;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Apis;

/// <summary>
/// The face registry routes of the contract: <c>POST /faces/register</c>, <c>GET /faces/list</c>,
/// <c>GET /faces/{person_id}</c>, <c>DELETE /faces/{person_id}</c>, behind the same <c>X-API-Key</c> check as <c>/infer</c>.
/// Registration takes a frame URI (JSON, the contract) or the photo itself (multipart/form-data: <c>image</c> and the
/// same fields as form values): Core sends a console upload or an event snapshot as bytes, so no folder is shared.
/// </summary>
public static partial class FacesApi
{
    private const int MaxBodyBytes = 16 * 1024;
    private const int MaxMetadataBytes = 4 * 1024;

    public static IEndpointRouteBuilder MapFacesApi(this IEndpointRouteBuilder app)
    {
        var faces = app.MapGroup("/faces").RequireInferenceApiKey().WithTags("Faces")
            .AddEndpointFilter(DatabaseFailuresAsProblems)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        // The registration body is read by hand (every malformed field gets a problem naming it): its shape is declared.
        faces.MapPost("/register", RegisterAsync).WithName("registerFace").DocumentsRequestBody<FaceRegisterRequest, RouteHandlerBuilder>()
            .WithSummary("Registers a face from a published frame (JSON with frame.uri) or an uploaded photo (multipart: image, person_id, name, category, metadata, replace) showing exactly one face (adds an embedding to an existing person_id)");
        faces.MapGet("/list", ListAsync).WithName("listFaces").WithSummary("Registered identities, optionally of one category");
        faces.MapGet("/{personId}", GetAsync).WithName("getFace").WithSummary("One identity with its metadata and embedding count");
        faces.MapDelete("/{personId}", DeleteAsync).WithName("deleteFace").WithSummary("Removes an identity and its embeddings");
        return app;
    }

    private static async Task<Results<Ok<FaceRegisterResponse>, InferenceProblem>> RegisterAsync(HttpContext http, IFrameSource frames, FaceAnalyzer analyzer, FaceRegistry registry,
        IOptions<InferenceOptions> options, ILogger<FaceRegistry> logger)
    {
        var cancellationToken = http.RequestAborted;
        try
        {
            if (!analyzer.CanEmbed)
            {
                throw new InferenceProblemException(StatusCodes.Status503ServiceUnavailable, "Face models not loaded",
                    "The face detector, landmark or embedding model is not loaded on this replica; see /health.");
            }

            FaceRegistration registration;
            string uri;
            byte[]? photo = null;
            if (http.Request.HasFormContentType)
            {
                (registration, uri, photo) = await FacePhotoForm.ReadAsync(http.Request, options.Value.MaxFrameBytes, cancellationToken);
            }
            else
            {
                (registration, uri) = await ReadRegistrationAsync(http.Request, cancellationToken);
            }

            IReadOnlyList<AnalyzedFace> faces;
            using (var frame = photo is null ? await frames.LoadAsync(uri, cancellationToken) : FrameResolver.Decode(FacePhotoForm.Reference, photo, options.Value.MaxImagePixels))
            {
                faces = await analyzer.AnalyzeAsync(frame.Image, FaceAnalysis.Embedding, cancellationToken);
            }

            if (faces.Count != 1)
            {
                throw new InferenceProblemException(StatusCodes.Status422UnprocessableEntity,
                    faces.Count == 0 ? "No face found" : "Several faces found",
                    faces.Count == 0
                        ? $"No face was found in the frame {uri}; registration needs a frame showing exactly one face."
                        : $"The frame {uri} shows {faces.Count} faces; registration needs exactly one (crop the frame to the person's face).");
            }

            var result = await registry.RegisterAsync(registration, faces[0].Embedding!, uri, cancellationToken);
            return TypedResults.Ok(new FaceRegisterResponse(true, result.PersonId, result.Name, result.Category, result.EmbeddingCount, result.Outcome));
        }
        catch (InferenceProblemException problem)
        {
            LogRejected(logger, "register", problem.StatusCode, problem.Detail);
            return new InferenceProblem(problem);
        }
    }

    private static async Task<Results<Ok<FaceListResponse>, BadRequestProblem>> ListAsync(string? category, FaceRegistry registry, CancellationToken cancellationToken)
    {
        if (category is not null && !FaceCategories.IsKnown(category))
        {
            return UnknownCategory(category);
        }

        var identities = await registry.ListAsync(category, cancellationToken);
        return TypedResults.Ok(new FaceListResponse([.. identities.Select(i => new FaceListItem(i.PersonId, i.Name, i.Category))], identities.Count));
    }

    private static async Task<Results<Ok<FaceIdentityResponse>, BadRequestProblem, NotFoundProblem>> GetAsync(string personId, FaceRegistry registry, CancellationToken cancellationToken)
    {
        if (!FaceCategories.IsValidPersonId(personId))
        {
            return InvalidPersonId(personId);
        }

        var identity = await registry.GetAsync(personId, cancellationToken);
        if (identity is null)
        {
            return NotFound(personId);
        }

        using var metadata = identity.Metadata is null ? null : JsonDocument.Parse(identity.Metadata);
        return TypedResults.Ok(new FaceIdentityResponse(identity.PersonId, identity.Name, identity.Category, metadata?.RootElement.Clone(),
            identity.EmbeddingCount, identity.CreatedAt.ToUnixTimeMilliseconds(), identity.UpdatedAt.ToUnixTimeMilliseconds()));
    }

    private static async Task<Results<Ok<FaceDeleteResponse>, BadRequestProblem, NotFoundProblem>> DeleteAsync(string personId, FaceRegistry registry, CancellationToken cancellationToken)
    {
        if (!FaceCategories.IsValidPersonId(personId))
        {
            return InvalidPersonId(personId);
        }

        return await registry.DeleteAsync(personId, cancellationToken)
            ? TypedResults.Ok(new FaceDeleteResponse(true, personId))
            : NotFound(personId);
    }

    /// <summary>The registry database failing (down, timing out) is a 503 problem, not an unexplained 500.</summary>
    private static async ValueTask<object?> DatabaseFailuresAsProblems(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException
                                       or Microsoft.EntityFrameworkCore.Storage.RetryLimitExceededException
                                       or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            context.HttpContext.RequestServices.GetRequiredService<ILogger<FaceRegistry>>().LogError(ex, "Face registry database failure");
            return new ServiceUnavailableProblem("The face registry database is not available; try again later.", "Face registry unavailable");
        }
    }

    /// <summary>
    /// Reads the registration body by hand, so that every malformed field gets a 4xx problem naming it:
    /// <c>{"frame":{"uri"},"person_id","name","category"?,"metadata"?,"replace"?}</c>.
    /// </summary>
    private static async Task<(FaceRegistration Registration, string Uri)> ReadRegistrationAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        if (http.ContentType is { } contentType && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            throw new InferenceProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported request body",
                $"The request body must be JSON (Content-Type application/json, a frame by URI) or multipart/form-data (the photo as the part image), not '{contentType}'.");
        }

        if (http.ContentLength > MaxBodyBytes)
        {
            throw TooLarge();
        }

        if (http.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await http.Body.CopyToAsync(buffer, cancellationToken);
            body = buffer.Length <= MaxBodyBytes ? buffer.ToArray() : throw TooLarge();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }

        if (body.Length == 0)
        {
            throw Invalid("The request body is empty; send {\"frame\":{\"uri\":\"opennvr://frames/<camera>/<file>\"},\"person_id\":\"...\",\"name\":\"...\",\"category\":\"employee\"}.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw Invalid($"The request body is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            return Validate(document.RootElement);
        }
    }

    /// <summary>The registration's fields checked one by one (JSON body, or a photo form turned into the same object).</summary>
    internal static (FaceRegistration Registration, string Uri) Validate(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"The request body must be a JSON object, not {InferenceRequest.Describe(root)}.");
        }

        // The frame is checked with the same rules as /infer's input.frame.
        if (!root.TryGetProperty("frame", out var frame) || frame.ValueKind == JsonValueKind.Null)
        {
            throw Invalid("frame is required: {\"frame\":{\"uri\":\"opennvr://frames/<camera>/<file>\"}}.");
        }

        if (frame.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"frame must be an object with a \"uri\" string, not {InferenceRequest.Describe(frame)}.");
        }

        var uri = RequiredString(frame, "uri", "frame.uri");
        FrameReference.Parse(uri);

        var personId = RequiredString(root, "person_id");
        if (!FaceCategories.IsValidPersonId(personId))
        {
            throw Invalid($"person_id '{Shorten(personId)}' is not valid: 1 to 64 letters, digits, '_' or '-' (^[A-Za-z0-9_-]{{1,64}}$).");
        }

        if (personId is "list" or "register")
        {
            // GET /faces/list would always answer the listing, never this identity.
            throw Invalid($"person_id '{personId}' is reserved (it names a /faces route); choose another.");
        }

        var name = RequiredString(root, "name").Trim();
        if (name.Length == 0)
        {
            throw Invalid("name must not be empty.");
        }

        if (name.Length > Infrastructure.FaceIdentity.MaxNameLength)
        {
            throw Invalid($"name is {name.Length} characters long; at most {Infrastructure.FaceIdentity.MaxNameLength} are accepted.");
        }

        if (name.Any(char.IsControl))
        {
            throw Invalid("name must not contain control characters.");
        }

        var category = OptionalString(root, "category") ?? FaceCategories.Unknown;
        if (!FaceCategories.IsKnown(category))
        {
            throw Invalid($"category '{Shorten(category)}' is not one of {string.Join(", ", FaceCategories.All)}.");
        }

        string? metadata = null;
        if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
        {
            if (meta.ValueKind != JsonValueKind.Object)
            {
                throw Invalid($"metadata must be a JSON object, not {InferenceRequest.Describe(meta)}.");
            }

            metadata = meta.GetRawText();
            if (System.Text.Encoding.UTF8.GetByteCount(metadata) > MaxMetadataBytes)
            {
                throw Invalid($"metadata is larger than {MaxMetadataBytes} bytes.");
            }
        }

        var replace = false;
        if (root.TryGetProperty("replace", out var replaceValue) && replaceValue.ValueKind != JsonValueKind.Null)
        {
            replace = replaceValue.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Invalid($"replace must be true or false, not {InferenceRequest.Describe(replaceValue)}."),
            };
        }

        return (new FaceRegistration(personId, name, category, metadata, replace), uri);
    }

    private static string RequiredString(JsonElement parent, string name, string? path = null)
    {
        path ??= name;
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Invalid($"{path} is required.");
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Invalid($"{path} must be a string, not {InferenceRequest.Describe(value)}.");
    }

    private static string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw Invalid($"{name} must be a string, not {InferenceRequest.Describe(value)}.");
    }

    internal static InferenceProblemException Invalid(string detail) =>
        new(StatusCodes.Status400BadRequest, "Invalid face registration", detail);

    private static InferenceProblemException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The request body exceeds {MaxBodyBytes} bytes; frames are sent by URI.");

    private static BadRequestProblem UnknownCategory(string category) =>
        new($"category '{Shorten(category)}' is not one of {string.Join(", ", FaceCategories.All)}.", "Invalid category");

    private static BadRequestProblem InvalidPersonId(string personId) =>
        new($"person_id '{Shorten(personId)}' is not valid: 1 to 64 letters, digits, '_' or '-'.", "Invalid person_id");

    private static NotFoundProblem NotFound(string personId) =>
        new($"No face identity is registered with person_id '{personId}'.", "Unknown person");

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";

    [LoggerMessage(Level = LogLevel.Information, Message = "Face registry request {Operation} rejected with {Status}: {Detail}")]
    private static partial void LogRejected(ILogger logger, string operation, int status, string detail);
}
