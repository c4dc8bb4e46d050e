using Microsoft.AspNetCore.Http.HttpResults;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Contracts.People;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Recordings;
using OpenNvr.Storage;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis;

public sealed record EventDto(
    long Id,
    int CameraId,
    string Task,
    string? Label,
    int? Count,
    double? Confidence,
    JsonElement? Bbox,
    string? SnapshotUrl,
    long ExecutedAt,
    double? LatencyMs,
    double? PipelineLatencyMs,
    string? TraceId,
    JsonElement? Payload,
    string? EventType,
    long? TrackId)
{
    public static EventDto From(AiEvent e) => new(
        e.Id, e.CameraId, e.Task, e.Label, e.Count, e.Confidence, e.Bbox?.RootElement,
        e.SnapshotPath is null ? null : $"/api/v1/events/{e.Id}/snapshot",
        e.ExecutedAt.ToUnixTimeMilliseconds(), e.LatencyMs, e.PipelineLatencyMs, e.TraceId, e.Payload?.RootElement, e.EventType, e.TrackId);
}

public sealed record LatestEventsResponse(IReadOnlyList<EventDto> Events, int Count);

public sealed record EventsPageResponse(IReadOnlyList<EventDto> Events, int Count, string? NextCursor);

/// <summary>AI events, newest first (by executed_at, then id). Non-admins see the events of their granted cameras only.</summary>
public static class EventsApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
    private const int MaxFilterLength = 128;
    private const string LimitMessage = "limit must be between {1} and {2}.";
    private const string FilterMessage = "{0} must be at most {1} characters.";

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/events").WithTags("Events")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/latest", LatestAsync).WithName("listLatestEvents").RequireAuthorization()
            .WithSummary("The newest events (limit 1-500, default 50), optionally of one camera and task").ProducesValidationProblem();
        api.MapGet("/", SearchAsync).WithName("searchEvents").RequireAuthorization()
            .WithSummary("Events filtered by camera, task, label, event type, track and time window, newest first, keyset-paginated by next_cursor");
        api.MapGet("/{id:long}", GetAsync).WithName("getEvent").RequireAuthorization().WithSummary("One event");
        api.MapGet("/{id:long}/snapshot", SnapshotAsync).WithName("getEventSnapshot").RequireAuthorization(AuthPolicies.Media)
            .WithSummary("The event's snapshot JPEG; Bearer header or ?token=<media token of the event's camera>")
            .Produces<Stream>(StatusCodes.Status200OK, "image/jpeg");
        return app;
    }

    private static IQueryable<AiEvent> Visible(NvrDbContext db, HttpContext http)
    {
        var events = db.Events.AsNoTracking();
        return db.VisibleCameraIds(http.User) is { } visible ? events.Where(e => visible.Contains(e.CameraId)) : events;
    }

    // Filters are checked by the validation filter (AddValidation): a bad one is a 400 validation problem naming it.
    private static async Task<Ok<LatestEventsResponse>> LatestAsync(
        HttpContext http, NvrDbContext db, CancellationToken ct,
        [FromQuery(Name = "limit"), Range(1, MaxLimit, ErrorMessage = LimitMessage)] int? limit = null,
        [FromQuery(Name = "camera_id")] int? cameraId = null,
        [FromQuery(Name = "task"), StringLength(MaxFilterLength, ErrorMessage = FilterMessage)] string? task = null)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity("events.latest");
        var events = Visible(db, http);
        if (cameraId is { } camera)
        {
            events = events.Where(e => e.CameraId == camera);
        }

        if (!string.IsNullOrEmpty(task))
        {
            events = events.Where(e => e.Task == task);
        }

        var page = await events.OrderByDescending(e => e.ExecutedAt).ThenByDescending(e => e.Id).Take(limit ?? DefaultLimit).ToListAsync(ct);
        return TypedResults.Ok(new LatestEventsResponse(page.Select(EventDto.From).ToList(), page.Count));
    }

    private static async Task<Results<Ok<EventsPageResponse>, BadRequestProblem>> SearchAsync(
        HttpContext http, NvrDbContext db, CancellationToken ct,
        [FromQuery(Name = "camera_id")] int? cameraId = null,
        [FromQuery(Name = "task"), StringLength(MaxFilterLength, ErrorMessage = FilterMessage)] string? task = null,
        [FromQuery(Name = "label"), StringLength(MaxFilterLength, ErrorMessage = FilterMessage)] string? label = null,
        [FromQuery(Name = "event_type"), StringLength(MaxFilterLength, ErrorMessage = FilterMessage)] string? eventType = null,
        [FromQuery(Name = "track_id"), Range(1, long.MaxValue, ErrorMessage = "track_id must be a positive number.")] long? trackId = null,
        [FromQuery(Name = "start_unix"), UnixSeconds(ErrorMessage = "start_unix " + UnixTime.Rule + ".")] double? startUnix = null,
        [FromQuery(Name = "end_unix"), UnixSeconds(ErrorMessage = "end_unix " + UnixTime.Rule + ".")] double? endUnix = null,
        [FromQuery(Name = "limit"), Range(1, MaxLimit, ErrorMessage = LimitMessage)] int? limit = null,
        [FromQuery(Name = "cursor")] string? cursor = null)
    {
        // The validation filter has checked both against UnixTime's range; this check keeps the handler safe on its own.
        if ((UnixTime.Check(startUnix, "start_unix") ?? UnixTime.Check(endUnix, "end_unix")) is { } outOfRange)
        {
            return new BadRequestProblem(outOfRange);
        }

        if (!string.IsNullOrEmpty(eventType) && !PersonEventTypes.IsKnown(eventType))
        {
            return new BadRequestProblem("event_type " + PersonEventTypes.Rule);
        }

        if (startUnix is not null && endUnix is not null && endUnix <= startUnix)
        {
            return new BadRequestProblem("end_unix must be greater than start_unix.");
        }

        (DateTimeOffset At, long Id)? after = null;
        if (cursor is not null)
        {
            after = DecodeCursor(cursor);
            if (after is null)
            {
                return new BadRequestProblem("cursor is not a next_cursor returned by this endpoint.");
            }
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("events.search");
        var events = Visible(db, http);
        if (cameraId is { } camera)
        {
            events = events.Where(ev => ev.CameraId == camera);
        }

        if (!string.IsNullOrEmpty(task))
        {
            events = events.Where(ev => ev.Task == task);
        }

        if (!string.IsNullOrEmpty(label))
        {
            events = events.Where(ev => ev.Label == label);
        }

        if (!string.IsNullOrEmpty(eventType))
        {
            events = events.Where(ev => ev.EventType == eventType);
        }

        if (trackId is { } track)
        {
            events = events.Where(ev => ev.TrackId == track);
        }

        if (startUnix is { } from)
        {
            var fromAt = Timeline.FromUnix(from);
            events = events.Where(ev => ev.ExecutedAt >= fromAt);
        }

        if (endUnix is { } to)
        {
            var toAt = Timeline.FromUnix(to);
            events = events.Where(ev => ev.ExecutedAt < toAt);
        }

        if (after is { } position)
        {
            events = events.Where(ev => ev.ExecutedAt < position.At || ev.ExecutedAt == position.At && ev.Id < position.Id);
        }

        var take = limit ?? DefaultLimit;
        var page = await events.OrderByDescending(ev => ev.ExecutedAt).ThenByDescending(ev => ev.Id).Take(take + 1).ToListAsync(ct);
        var next = page.Count > take ? EncodeCursor(page[take - 1]) : null;
        if (page.Count > take)
        {
            page.RemoveAt(take);
        }

        return TypedResults.Ok(new EventsPageResponse(page.Select(EventDto.From).ToList(), page.Count, next));
    }

    private static async Task<Results<Ok<EventDto>, NotFoundProblem>> GetAsync(long id, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        var found = await Visible(db, http).SingleOrDefaultAsync(e => e.Id == id, ct);
        return found is null ? new NotFoundProblem($"Event {id} does not exist.") : TypedResults.Ok(EventDto.From(found));
    }

    private static async Task<Results<PhysicalFileHttpResult, StoredMediaResult, NotFoundProblem, ServiceUnavailableProblem>> SnapshotAsync(
        long id, HttpContext http, NvrDbContext db, IRecordingStore store, CancellationToken ct)
    {
        var found = await Visible(db, http).Where(e => e.Id == id).Select(e => new { e.CameraId, e.SnapshotPath }).SingleOrDefaultAsync(ct);
        if (found is null || http.User.MediaCamera() is { } mediaCamera && mediaCamera != found.CameraId)
        {
            return new NotFoundProblem($"Event {id} does not exist.");
        }

        if (found.SnapshotPath is null)
        {
            return new NotFoundProblem($"Event {id} has no snapshot.");
        }

        // The Recorder uploads a snapshot beside sending its event: during a store outage it is briefly not there yet.
        return await StoredMedia.ServeAsync(store, found.SnapshotPath, "image/jpeg",
            $"The snapshot of event {id} is not in the recording store (not uploaded yet, or deleted by retention).", ct);
    }

    // The cursor is opaque to clients: executed_at in Unix microseconds and the id of the last event of a page.
    private static string EncodeCursor(AiEvent last) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"{(last.ExecutedAt - DateTimeOffset.UnixEpoch).Ticks / 10}.{last.Id}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (DateTimeOffset At, long Id)? DecodeCursor(string cursor)
    {
        if (cursor.Length > 64)
        {
            return null;
        }

        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = Encoding.ASCII.GetString(Convert.FromBase64String(padded)).Split('.');
            return parts.Length == 2 &&
                   long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var micros) &&
                   long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) &&
                   micros < DateTimeOffset.MaxValue.Ticks / 10 - DateTimeOffset.UnixEpoch.Ticks / 10
                ? (DateTimeOffset.UnixEpoch.AddTicks(micros * 10), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
