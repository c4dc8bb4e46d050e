using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Contracts.Inference;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Recordings;
using OpenNvr.Core.WebConsole;
using OpenNvr.Storage;
using Refit;

namespace OpenNvr.Core.Apis;

/// <summary>Register from an event's snapshot (JSON); a photo upload sends the same fields as multipart form data.</summary>
public sealed record FaceFromEventRequest(string? PersonId = null, string? Name = null, string? Category = null, long? EventId = null, JsonElement? Metadata = null);

/// <summary>
/// The face registry of Inference behind Core's login (admin and operator), through the Refit client
/// <see cref="IInferenceApi"/>: <c>GET /api/v1/faces?category=</c>, <c>GET|DELETE /api/v1/faces/{person_id}</c>,
/// <c>POST /api/v1/faces/register</c>. Answers of Inference (its problem JSON included) pass through unchanged;
/// Inference unreachable, refusing Core's key or without a registry is a 502 problem. Registration sends Inference the
/// photo itself (the upload, or the event's snapshot read from the recording store) as multipart/form-data: Core and
/// Inference share no folder, so they may run on different hosts.
/// </summary>
public static class FacesProxyApi
{
    public const int MaxPhotoBytes = 8 * 1024 * 1024;
    private const int MaxAnswerBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapFacesProxyApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/faces").WithTags("Faces")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status502BadGateway);

        api.MapGet("/", ListAsync).WithName("listFaces").WithSummary("Registered identities (Inference /faces/list), optionally of one category (admin, operator)")
            .Produces<FaceListResponse>().ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{personId}", GetAsync).WithName("getFace").WithSummary("One identity (admin, operator)")
            .Produces<FaceIdentityResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{personId}", DeleteAsync).WithName("deleteFace").WithSummary("Removes an identity (admin, operator)")
            .Produces<FaceDeleteResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/register", RegisterAsync).WithName("registerFace")
            .Accepts<FaceFromEventRequest>("application/json", "multipart/form-data")
            .WithSummary("Registers a face from an uploaded photo (multipart: photo, person_id, name, category) or from an event snapshot (JSON: event_id, person_id, name, category) (admin, operator)")
            .Produces<FaceRegisterResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    private static async Task<IResult> ListAsync(IInferenceApi inference, ILogger<IInferenceApi> logger, CancellationToken ct,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "category")] string? category = null) =>
        category is { Length: > 64 }
            ? Problems.BadRequest("category must be at most 64 characters.")
            : await PassThroughAsync("list", () => inference.ListFacesAsync(string.IsNullOrEmpty(category) ? null : category, ct), logger, ct);

    private static async Task<IResult> GetAsync(string personId, IInferenceApi inference, ILogger<IInferenceApi> logger, CancellationToken ct) =>
        CheckPersonId(personId) ?? await PassThroughAsync("get", () => inference.GetFaceAsync(personId, ct), logger, ct);

    private static async Task<IResult> DeleteAsync(string personId, HttpContext http, NvrDbContext db, IInferenceApi inference,
        ILogger<IInferenceApi> logger, CancellationToken ct)
    {
        if (CheckPersonId(personId) is { } problem)
        {
            return problem;
        }

        var result = await PassThroughAsync("delete", () => inference.DeleteFaceAsync(personId, ct), logger, ct);
        if (result is IStatusCodeHttpResult { StatusCode: 200 })
        {
            db.Audit(http, "face.delete", "face", personId);
            await db.SaveChangesAsync(ct);
        }

        return result;
    }

    private static async Task<IResult> RegisterAsync(HttpContext http, NvrDbContext db, IInferenceApi inference, IRecordingStore store,
        ILogger<IInferenceApi> logger, CancellationToken ct)
    {
        var (registration, problem) = http.Request.HasFormContentType ? await FromUploadAsync(http, ct)
            : http.Request.HasJsonContentType() ? await FromEventAsync(http, db, store, ct)
            : (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send multipart/form-data with a photo, or application/json with an event_id."));
        if (registration is not { } r)
        {
            return problem!;
        }

        if ((CheckPersonId(r.PersonId) ?? CheckNameAndCategory(r.Name, r.Category)) is { } fieldProblem)
        {
            return fieldProblem;
        }

        if (ImageHeader.DetectFormat(r.Image) is not { } format)
        {
            return Problems.BadRequest("The image is neither a JPEG nor a PNG.");
        }

        var name = r.Name!.Trim();
        var photo = format == ImageFormat.Jpeg
            ? new ByteArrayPart(r.Image, "photo" + MediaTypes.JpegExtension, MediaTypes.Jpeg)
            : new ByteArrayPart(r.Image, "photo" + MediaTypes.PngExtension, MediaTypes.Png);
        var metadata = r.Metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText()
            : r.EventId is { } id ? JsonSerializer.Serialize(new { event_id = id }) : "";
        var result = await PassThroughAsync("register",
            () => inference.RegisterFacePhotoAsync(photo, r.PersonId!, name, r.Category ?? "", metadata, ct), logger, ct);
        if (result is IStatusCodeHttpResult { StatusCode: 200 })
        {
            db.Audit(http, "face.register", "face", r.PersonId, new { name, category = r.Category, event_id = r.EventId });
            await db.SaveChangesAsync(ct);
        }

        return result;
    }

    /// <summary>What a registration names and the image it registers, from either form of the request.</summary>
    private sealed record Registration(string? PersonId, string? Name, string? Category, JsonElement? Metadata, long? EventId, byte[] Image);

    private static async Task<(Registration?, IResult?)> FromUploadAsync(HttpContext http, CancellationToken ct)
    {
        if (http.Request.ContentLength > MaxPhotoBytes + 64 * 1024)
        {
            return (null, PhotoTooLarge());
        }

        var form = await http.Request.ReadFormAsync(ct);
        var photo = form.Files.GetFile("photo");
        if (photo is null || photo.Length == 0)
        {
            return (null, Problems.BadRequest("photo is required: a JPEG or PNG file showing exactly one face."));
        }

        if (photo.Length > MaxPhotoBytes)
        {
            return (null, PhotoTooLarge());
        }

        using var buffer = new MemoryStream();
        await photo.CopyToAsync(buffer, ct);
        return (new Registration(form["person_id"].FirstOrDefault(), form["name"].FirstOrDefault(), form["category"].FirstOrDefault(),
            null, null, buffer.ToArray()), null);
    }

    private static async Task<(Registration?, IResult?)> FromEventAsync(HttpContext http, NvrDbContext db, IRecordingStore store, CancellationToken ct)
    {
        FaceFromEventRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<FaceFromEventRequest>(
                http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions, ct);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest("Invalid JSON body: " + ex.Message));
        }

        if (request?.EventId is not { } id)
        {
            return (null, Problems.BadRequest("event_id is required (or upload a photo as multipart/form-data)."));
        }

        var snapshot = await db.Events.AsNoTracking().Where(e => e.Id == id).Select(e => new { e.CameraId, e.SnapshotPath }).SingleOrDefaultAsync(ct);
        if (snapshot is null || !await db.CanSeeCameraAsync(http.User, snapshot.CameraId, ct))
        {
            return (null, Problems.NotFound($"Event {id} does not exist."));
        }

        if (snapshot.SnapshotPath is null || StorageKeys.Check(snapshot.SnapshotPath) is not null)
        {
            return (null, Problems.NotFound($"Event {id} has no snapshot."));
        }

        try
        {
            // The snapshot from the recording store (bounded: a snapshot is one analysed frame).
            await using var stored = await store.OpenReadAsync(snapshot.SnapshotPath, 0, MaxPhotoBytes + 1L, ct);
            if (stored is null)
            {
                return (null, Problems.NotFound($"The snapshot of event {id} is not in the recording store (not uploaded yet, or deleted by retention)."));
            }

            using var buffer = new MemoryStream();
            await stored.CopyToAsync(buffer, ct);
            return buffer.Length > MaxPhotoBytes
                ? (null, PhotoTooLarge())
                : (new Registration(request.PersonId, request.Name, request.Category, request.Metadata, id, buffer.ToArray()), null);
        }
        catch (RecordingStoreException ex)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Recording store unavailable",
                detail: $"The recording store does not answer: {ex.Message}"));
        }
    }

    /// <summary>
    /// Inference's answer as it came (status, content type, body), or a 502 problem when the browser cannot fix what
    /// went wrong: Inference unreachable, refusing Core's key, or without a face registry.
    /// </summary>
    private static async Task<IResult> PassThroughAsync(string operation, Func<Task<HttpResponseMessage>> call, ILogger logger, CancellationToken ct)
    {
        using var activity = WebConsoleTelemetry.ActivitySource.StartActivity("console.faces." + operation);
        try
        {
            using var response = await call();
            var status = (int)response.StatusCode;
            var contentType = response.Content.Headers.ContentType?.ToString();
            await response.Content.LoadIntoBufferAsync(MaxAnswerBytes, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            WebConsoleTelemetry.FacesCalls.Add(1, new("operation", operation), new("status", status));
            activity?.SetTag("http.response.status_code", status);
            return status switch
            {
                // The caller is authorised by Core; a refusal here is Core's key, which the browser cannot fix.
                StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden =>
                    BadGateway("Inference refused Core's API key: ServiceKeys:CoreInference must be the same on Core and Inference."),
                StatusCodes.Status404NotFound when contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true =>
                    BadGateway("This Inference has no face registry (/faces answered 404)."),
                _ => new PassThroughResult(status, contentType, body),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
                                       or Polly.CircuitBreaker.BrokenCircuitException or TaskCanceledException)
        {
            WebConsoleTelemetry.FacesCalls.Add(1, new("operation", operation), new("status", 502));
            WebConsoleLog.InferenceUnreachable(logger, operation, ex.GetType().Name);
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            return BadGateway("Inference (which holds the face registry) is unreachable.");
        }
    }

    private static ProblemHttpResult BadGateway(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Bad gateway", detail: detail);

    private static ProblemHttpResult PhotoTooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
            detail: $"The photo must be at most {MaxPhotoBytes / (1024 * 1024)} MB.");

    private static ProblemHttpResult? CheckPersonId(string? personId) =>
        PersonIds.IsValid(personId) ? null : Problems.BadRequest("person_id must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'.");

    private static ProblemHttpResult? CheckNameAndCategory(string? name, string? category) =>
        string.IsNullOrWhiteSpace(name) || name.Length > 200 ? Problems.BadRequest("name is required (1-200 characters).")
        : category is { Length: > 64 } ? Problems.BadRequest("category must be at most 64 characters.")
        : null;

    /// <summary>Inference's answer as it came: status, content type and body.</summary>
    private sealed class PassThroughResult(int statusCode, string? contentType, byte[] body) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => statusCode;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = statusCode;
            httpContext.Response.ContentType = contentType ?? "application/json";
            httpContext.Response.ContentLength = body.Length;
            await httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted);
        }
    }
}
