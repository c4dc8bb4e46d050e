using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Contracts.People;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis;

/// <summary>
/// Zones and counting lines of a camera (normalised image coordinates, checked by <see cref="ZoneRules"/>): anyone who
/// sees the camera reads them; admins and operators with a grant change them. They reach the camera's Recorder with
/// the next heartbeat and go with their camera.
/// </summary>
public static class ZonesApi
{
    public static IEndpointRouteBuilder MapZonesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/cameras/{id:int}").WithTags("Zones and lines").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/zones", ListZonesAsync).WithName("listZones").WithSummary("The camera's zones");
        api.MapPost("/zones", CreateZoneAsync).WithName("createZone").RequireAuthorization(AuthPolicies.Operator)
            .WithSummary("Adds a zone (admin, or operator with a grant)").ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPut("/zones/{zoneId:int}", ReplaceZoneAsync).WithName("replaceZone").RequireAuthorization(AuthPolicies.Operator)
            .WithSummary("Replaces a zone (admin, or operator with a grant)").ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapDelete("/zones/{zoneId:int}", DeleteZoneAsync).WithName("deleteZone").RequireAuthorization(AuthPolicies.Operator)
            .WithSummary("Removes a zone (admin, or operator with a grant)").ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/lines", ListLinesAsync).WithName("listLines").WithSummary("The camera's counting lines");
        api.MapPost("/lines", CreateLineAsync).WithName("createLine").RequireAuthorization(AuthPolicies.Operator)
            .WithSummary("Adds a counting line (admin, or operator with a grant)").ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPut("/lines/{lineId:int}", ReplaceLineAsync).WithName("replaceLine").RequireAuthorization(AuthPolicies.Operator)
            .WithSummary("Replaces a counting line (admin, or operator with a grant)").ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapDelete("/lines/{lineId:int}", DeleteLineAsync).WithName("deleteLine").RequireAuthorization(AuthPolicies.Operator)
            .WithSummary("Removes a counting line (admin, or operator with a grant)").ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    private static async Task<Results<Ok<ZoneListResponse>, NotFoundProblem>> ListZonesAsync(int id, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return Problems.NoSuchCamera(id);
        }

        var zones = await db.Zones.AsNoTracking().Where(z => z.CameraId == id).OrderBy(z => z.Id).ToListAsync(ct);
        return TypedResults.Ok(new ZoneListResponse(id, zones.Select(ZoneDto.From).ToList(), zones.Count));
    }

    private static async Task<Results<Created<ZoneDto>, BadRequestProblem, NotFoundProblem>> CreateZoneAsync(int id, ZoneWriteRequest request,
        HttpContext http, NvrDbContext db, TimeProvider clock, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return Problems.NoSuchCamera(id);
        }

        if (CheckZone(request) is { } problem)
        {
            return new BadRequestProblem(problem);
        }

        if (await db.Zones.CountAsync(z => z.CameraId == id, ct) >= ZoneRules.MaxPerCamera)
        {
            return new BadRequestProblem($"a camera has at most {ZoneRules.MaxPerCamera} zones.");
        }

        var now = clock.GetUtcNow();
        var zone = new Zone { CameraId = id, Name = "", Points = [], EventTypes = [], CreatedAt = now };
        Apply(request, zone, now);
        db.Zones.Add(zone);
        await db.SaveChangesAsync(ct);
        db.Audit(http, "zone.create", "camera", id, new { zone_id = zone.Id, zone.Name });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/cameras/{id}/zones/{zone.Id}", ZoneDto.From(zone));
    }

    private static async Task<Results<Ok<ZoneDto>, BadRequestProblem, NotFoundProblem>> ReplaceZoneAsync(int id, int zoneId, ZoneWriteRequest request,
        HttpContext http, NvrDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var zone = await db.CanSeeCameraAsync(http.User, id, ct) ? await db.Zones.SingleOrDefaultAsync(z => z.Id == zoneId && z.CameraId == id, ct) : null;
        if (zone is null)
        {
            return new NotFoundProblem($"Camera {id} has no zone {zoneId}.");
        }

        if (CheckZone(request) is { } problem)
        {
            return new BadRequestProblem(problem);
        }

        Apply(request, zone, clock.GetUtcNow());
        db.Audit(http, "zone.update", "camera", id, new { zone_id = zone.Id, zone.Name });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ZoneDto.From(zone));
    }

    private static async Task<Results<NoContent, NotFoundProblem>> DeleteZoneAsync(int id, int zoneId, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        var zone = await db.CanSeeCameraAsync(http.User, id, ct) ? await db.Zones.SingleOrDefaultAsync(z => z.Id == zoneId && z.CameraId == id, ct) : null;
        if (zone is null)
        {
            return new NotFoundProblem($"Camera {id} has no zone {zoneId}.");
        }

        db.Zones.Remove(zone);
        db.Audit(http, "zone.delete", "camera", id, new { zone_id = zone.Id, zone.Name });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<LineListResponse>, NotFoundProblem>> ListLinesAsync(int id, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return Problems.NoSuchCamera(id);
        }

        var lines = await db.CountingLines.AsNoTracking().Where(l => l.CameraId == id).OrderBy(l => l.Id).ToListAsync(ct);
        return TypedResults.Ok(new LineListResponse(id, lines.Select(LineDto.From).ToList(), lines.Count));
    }

    private static async Task<Results<Created<LineDto>, BadRequestProblem, NotFoundProblem>> CreateLineAsync(int id, LineWriteRequest request,
        HttpContext http, NvrDbContext db, TimeProvider clock, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return Problems.NoSuchCamera(id);
        }

        if (CheckLine(request) is { } problem)
        {
            return new BadRequestProblem(problem);
        }

        if (await db.CountingLines.CountAsync(l => l.CameraId == id, ct) >= ZoneRules.MaxPerCamera)
        {
            return new BadRequestProblem($"a camera has at most {ZoneRules.MaxPerCamera} counting lines.");
        }

        var now = clock.GetUtcNow();
        var line = new CountingLine { CameraId = id, Name = "", Points = [], EventTypes = [], CreatedAt = now };
        Apply(request, line, now);
        db.CountingLines.Add(line);
        await db.SaveChangesAsync(ct);
        db.Audit(http, "line.create", "camera", id, new { line_id = line.Id, line.Name });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/cameras/{id}/lines/{line.Id}", LineDto.From(line));
    }

    private static async Task<Results<Ok<LineDto>, BadRequestProblem, NotFoundProblem>> ReplaceLineAsync(int id, int lineId, LineWriteRequest request,
        HttpContext http, NvrDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var line = await db.CanSeeCameraAsync(http.User, id, ct) ? await db.CountingLines.SingleOrDefaultAsync(l => l.Id == lineId && l.CameraId == id, ct) : null;
        if (line is null)
        {
            return new NotFoundProblem($"Camera {id} has no counting line {lineId}.");
        }

        if (CheckLine(request) is { } problem)
        {
            return new BadRequestProblem(problem);
        }

        Apply(request, line, clock.GetUtcNow());
        db.Audit(http, "line.update", "camera", id, new { line_id = line.Id, line.Name });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(LineDto.From(line));
    }

    private static async Task<Results<NoContent, NotFoundProblem>> DeleteLineAsync(int id, int lineId, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        var line = await db.CanSeeCameraAsync(http.User, id, ct) ? await db.CountingLines.SingleOrDefaultAsync(l => l.Id == lineId && l.CameraId == id, ct) : null;
        if (line is null)
        {
            return new NotFoundProblem($"Camera {id} has no counting line {lineId}.");
        }

        db.CountingLines.Remove(line);
        db.Audit(http, "line.delete", "camera", id, new { line_id = line.Id, line.Name });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static string? CheckZone(ZoneWriteRequest r) =>
        ZoneRules.CheckName(r.Name) ?? ZoneRules.CheckZonePoints(r.Points) ?? ZoneRules.CheckEventTypes(r.EventTypes, PersonEventTypes.OfZones)
        ?? ZoneRules.CheckLoitering(r.LoiteringS, r.EventTypes);

    private static string? CheckLine(LineWriteRequest r) =>
        ZoneRules.CheckName(r.Name) ?? ZoneRules.CheckLinePoints(r.Points) ?? ZoneRules.CheckEventTypes(r.EventTypes, PersonEventTypes.OfLines);

    private static void Apply(ZoneWriteRequest r, Zone zone, DateTimeOffset now)
    {
        zone.Name = r.Name!.Trim();
        zone.Points = r.Points!;
        zone.LoiteringS = r.LoiteringS;
        zone.EventTypes = r.EventTypes is null ? [.. ZoneRules.DefaultZoneEventTypes(r.LoiteringS)] : [.. r.EventTypes.OfType<string>()];
        zone.UpdatedAt = now;
    }

    private static void Apply(LineWriteRequest r, CountingLine line, DateTimeOffset now)
    {
        line.Name = r.Name!.Trim();
        line.Points = r.Points!;
        line.EventTypes = r.EventTypes is null ? [PersonEventTypes.LineCrossed] : [.. r.EventTypes.OfType<string>()];
        line.UpdatedAt = now;
    }
}
