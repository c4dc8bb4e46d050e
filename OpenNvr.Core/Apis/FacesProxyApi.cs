using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Recordings;
using OpenNvr.Core.WebConsole;

namespace OpenNvr.Core.Apis;

/// <summary>Register from an event's snapshot (JSON); a photo upload sends the same fields as multipart form data.</summary>
public sealed record FaceFromEventRequest(string? PersonId = null, string? Name = null, string? Category = null, long? EventId = null, JsonElement? Metadata = null);

/// <summary>
/// The face registry of Inference behind Core's login (admin and operator): <c>GET /api/v1/faces?category=</c>,
/// <c>GET|DELETE /api/v1/faces/{person_id}</c>, <c>POST /api/v1/faces/register</c>. Answers of Inference (including
/// its problem JSON) pass through unchanged; Inference unreachable or refusing Core's key is a 502 problem.
/// Registration hands Inference a frame URI: Core writes the uploaded photo (or the event's snapshot) as a frame under
/// <c>&lt;Frames:Root&gt;/console-uploads/</c>, asks Inference to register <c>opennvr://frames/console-uploads/&lt;file&gt;</c>,
/// and deletes the file afterwards. Core and Inference must therefore share <c>Frames:Root</c>.
/// </summary>
public static partial class FacesProxyApi
{
    public const string UploadFolder = "console-uploads";
    public const int MaxPhotoBytes = 8 * 1024 * 1024;

    public static IEndpointRouteBuilder MapFacesProxyApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/faces").WithTags("Faces")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status502BadGateway);

        api.MapGet("/", ListAsync).WithSummary("Registered identities (Inference /faces/list), optionally of one category (admin, operator)");
        api.MapGet("/{personId}", GetAsync).WithSummary("One identity (admin, operator)").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{personId}", DeleteAsync).WithSummary("Removes an identity (admin, operator)").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/register", RegisterAsync)
            .Accepts<FaceFromEventRequest>("application/json", "multipart/form-data")
            .WithSummary("Registers a face from an uploaded photo (multipart: photo, person_id, name, category) or from an event snapshot (JSON: event_id, person_id, name, category) (admin, operator)")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    private static Task<IResult> ListAsync(HttpContext http, InferenceFacesClient faces, ILogger<InferenceFacesClient> logger, CancellationToken ct,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "category")] string? category = null) =>
        category is { Length: > 64 }
            ? Task.FromResult(Problems.BadRequest("category must be at most 64 characters."))
            : ProxyAsync("list", () => faces.ListAsync(string.IsNullOrEmpty(category) ? null : category, ct), logger);

    private static Task<IResult> GetAsync(string personId, InferenceFacesClient faces, ILogger<InferenceFacesClient> logger, CancellationToken ct) =>
        CheckPersonId(personId) is { } problem
            ? Task.FromResult(problem)
            : ProxyAsync("get", () => faces.GetAsync(personId, ct), logger);

    private static async Task<IResult> DeleteAsync(string personId, HttpContext http, NvrDbContext db, InferenceFacesClient faces,
        ILogger<InferenceFacesClient> logger, CancellationToken ct)
    {
        if (CheckPersonId(personId) is { } problem)
        {
            return problem;
        }

        var result = await ProxyAsync("delete", () => faces.DeleteAsync(personId, ct), logger);
        if (result is IStatusCodeHttpResult { StatusCode: 200 })
        {
            db.Audit(http, "face.delete", "face", personId);
            await db.SaveChangesAsync(ct);
        }

        return result;
    }

    private static async Task<IResult> RegisterAsync(HttpContext http, NvrDbContext db, InferenceFacesClient faces, IConfiguration configuration,
        IOptions<RecordingsOptions> recordings, ILogger<InferenceFacesClient> logger, CancellationToken ct)
    {
        string? personId, name, category;
        JsonElement? metadata = null;
        byte[] image;
        long? eventId = null;
        if (http.Request.HasFormContentType)
        {
            if (http.Request.ContentLength > MaxPhotoBytes + 64 * 1024)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
                    detail: $"The photo must be at most {MaxPhotoBytes / (1024 * 1024)} MB.");
            }

            var form = await http.Request.ReadFormAsync(ct);
            personId = form["person_id"].FirstOrDefault();
            name = form["name"].FirstOrDefault();
            category = form["category"].FirstOrDefault();
            var photo = form.Files.GetFile("photo");
            if (photo is null || photo.Length == 0)
            {
                return Problems.BadRequest("photo is required: a JPEG or PNG file showing exactly one face.");
            }

            if (photo.Length > MaxPhotoBytes)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
                    detail: $"The photo must be at most {MaxPhotoBytes / (1024 * 1024)} MB.");
            }

            using var buffer = new MemoryStream();
            await photo.CopyToAsync(buffer, ct);
            image = buffer.ToArray();
        }
        else if (http.Request.HasJsonContentType())
        {
            FaceFromEventRequest? request;
            try
            {
                request = await http.Request.ReadFromJsonAsync<FaceFromEventRequest>(
                    http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions, ct);
            }
            catch (JsonException ex)
            {
                return Problems.BadRequest("Invalid JSON body: " + ex.Message);
            }

            if (request?.EventId is not { } id)
            {
                return Problems.BadRequest("event_id is required (or upload a photo as multipart/form-data).");
            }

            (personId, name, category, metadata, eventId) = (request.PersonId, request.Name, request.Category, request.Metadata, id);
            var snapshot = await db.Events.AsNoTracking().Where(e => e.Id == id).Select(e => new { e.CameraId, e.SnapshotPath }).SingleOrDefaultAsync(ct);
            if (snapshot is null || !await db.CanSeeCameraAsync(http.User, snapshot.CameraId, ct))
            {
                return Problems.NotFound($"Event {id} does not exist.");
            }

            var full = snapshot.SnapshotPath is null ? null : recordings.Value.Resolve(snapshot.SnapshotPath);
            if (full is null || !File.Exists(full))
            {
                return Problems.NotFound($"Event {id} has no snapshot on this server's recordings volume.");
            }

            image = await File.ReadAllBytesAsync(full, ct);
        }
        else
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send multipart/form-data with a photo, or application/json with an event_id.");
        }

        if (CheckPersonId(personId) is { } personProblem)
        {
            return personProblem;
        }

        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
        {
            return Problems.BadRequest("name is required (1-200 characters).");
        }

        if (category is { Length: > 64 })
        {
            return Problems.BadRequest("category must be at most 64 characters.");
        }

        var extension = ImageExtension(image);
        if (extension is null)
        {
            return Problems.BadRequest("The image is neither a JPEG nor a PNG.");
        }

        if (configuration["Frames:Root"] is not { Length: > 0 } framesRoot)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not configured",
                detail: "Frames:Root is not configured on Core, so it cannot hand a photo to Inference.");
        }

        var folder = Path.Combine(Path.GetFullPath(framesRoot), UploadFolder);
        Directory.CreateDirectory(folder);
        var file = $"{Guid.NewGuid():N}{extension}";
        var path = Path.Combine(folder, file);
        await File.WriteAllBytesAsync(path, image, ct);
        try
        {
            var body = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["frame"] = new Dictionary<string, string> { ["uri"] = $"opennvr://frames/{UploadFolder}/{file}" },
                ["person_id"] = personId,
                ["name"] = name.Trim(),
                ["category"] = string.IsNullOrEmpty(category) ? null : category,
                ["metadata"] = metadata is { ValueKind: JsonValueKind.Object } m ? m : eventId is null ? null : JsonSerializer.SerializeToElement(new { event_id = eventId }),
            });
            var result = await ProxyAsync("register", () => faces.RegisterAsync(body, ct), logger);
            if (result is IStatusCodeHttpResult { StatusCode: 200 })
            {
                db.Audit(http, "face.register", "face", personId, new { name = name.Trim(), category, event_id = eventId });
                await db.SaveChangesAsync(ct);
            }

            return result;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<IResult> ProxyAsync(string operation, Func<Task<ProxiedAnswer>> call, ILogger logger)
    {
        using var activity = WebConsoleTelemetry.ActivitySource.StartActivity("console.faces." + operation);
        ProxiedAnswer answer;
        try
        {
            answer = await call();
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
                                       or Polly.CircuitBreaker.BrokenCircuitException or TaskCanceledException)
        {
            WebConsoleTelemetry.FacesCalls.Add(1, new("operation", operation), new("status", 502));
            WebConsoleLog.InferenceUnreachable(logger, operation, ex.GetType().Name);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Bad gateway",
                detail: "Inference (which holds the face registry) is unreachable.");
        }

        WebConsoleTelemetry.FacesCalls.Add(1, new("operation", operation), new("status", answer.StatusCode));
        activity?.SetTag("http.response.status_code", answer.StatusCode);
        if (answer.StatusCode is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden)
        {
            // The caller is authorised by Core; a refusal here is Core's key, which the browser cannot fix.
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Bad gateway",
                detail: "Inference refused Core's API key: Inference:ApiKey on Core must match Inference's.");
        }

        if (answer.StatusCode == StatusCodes.Status404NotFound && answer.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Bad gateway",
                detail: "This Inference has no face registry (/faces answered 404).");
        }

        return new PassThroughResult(answer);
    }

    private static IResult? CheckPersonId(string? personId) =>
        personId is not null && PersonId().IsMatch(personId)
            ? null
            : Problems.BadRequest("person_id must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'.");

    private static string? ImageExtension(byte[] image) => image switch
    {
        [0xFF, 0xD8, 0xFF, ..] => ".jpg",
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, ..] => ".png",
        _ => null,
    };

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex PersonId();

    /// <summary>Inference's answer as it came: status, content type and body.</summary>
    private sealed class PassThroughResult(ProxiedAnswer answer) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => answer.StatusCode;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = answer.StatusCode;
            httpContext.Response.ContentType = answer.ContentType ?? "application/json";
            httpContext.Response.ContentLength = answer.Body.Length;
            await httpContext.Response.Body.WriteAsync(answer.Body, httpContext.RequestAborted);
        }
    }
}
