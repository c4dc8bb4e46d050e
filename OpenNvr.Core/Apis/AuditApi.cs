using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Apis;

public sealed record AuditEntryDto(long Id, DateTimeOffset At, int? ActorUserId, string? ActorName, string Action,
    string? TargetType, string? TargetId, string? ClientIp, JsonElement? Details);

public sealed record AuditPageResponse(IReadOnlyList<AuditEntryDto> Entries, int Count, long? NextBeforeId);

/// <summary>The audit log (admin only): logins, failed logins, lockouts and every administrative change.</summary>
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/audit", ListAsync).WithName("listAuditEntries").WithTags("Audit")
            .RequireAuthorization(Extensions.Extensions.AdminPolicy)
            .WithSummary("Audit entries newest first; page with before_id = next_before_id")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    private static async Task<Results<Ok<AuditPageResponse>, BadRequestProblem>> ListAsync(
        NvrDbContext db, CancellationToken ct,
        [FromQuery(Name = "limit")] int? limit = null,
        [FromQuery(Name = "before_id")] long? beforeId = null,
        [FromQuery(Name = "action")] string? action = null,
        [FromQuery(Name = "actor")] string? actor = null)
    {
        if (limit is < 1 or > 500)
        {
            return new BadRequestProblem("limit must be between 1 and 500.");
        }

        if (action is { Length: > 64 } || actor is { Length: > 64 })
        {
            return new BadRequestProblem("action and actor filters must be at most 64 characters.");
        }

        var entries = db.AuditLog.AsNoTracking();
        if (beforeId is { } before)
        {
            entries = entries.Where(a => a.Id < before);
        }

        if (!string.IsNullOrEmpty(action))
        {
            entries = entries.Where(a => a.Action == action);
        }

        if (!string.IsNullOrEmpty(actor))
        {
            entries = entries.Where(a => a.ActorName == actor);
        }

        var take = limit ?? 100;
        var page = await entries.OrderByDescending(a => a.Id).Take(take).ToListAsync(ct);
        return TypedResults.Ok(new AuditPageResponse(
            page.Select(a => new AuditEntryDto(a.Id, a.At, a.ActorUserId, a.ActorName, a.Action, a.TargetType, a.TargetId, a.ClientIp,
                a.Details is null ? null : JsonDocument.Parse(a.Details).RootElement)).ToList(),
            page.Count,
            page.Count == take ? page[^1].Id : null));
    }
}
