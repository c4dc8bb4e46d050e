using Microsoft.AspNetCore.Http.HttpResults;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Auth;
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
            .RequireAuthorization(AuthPolicies.Admin)
            .WithSummary("Audit entries newest first; page with before_id = next_before_id")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    // Filters are checked by the validation filter (AddValidation): a bad one is a 400 validation problem naming it.
    private static async Task<Ok<AuditPageResponse>> ListAsync(
        NvrDbContext db, CancellationToken ct,
        [FromQuery(Name = "limit"), Range(1, 500, ErrorMessage = "limit must be between {1} and {2}.")] int? limit = null,
        [FromQuery(Name = "before_id")] long? beforeId = null,
        [FromQuery(Name = "action"), StringLength(64, ErrorMessage = "{0} must be at most {1} characters.")] string? action = null,
        [FromQuery(Name = "actor"), StringLength(64, ErrorMessage = "{0} must be at most {1} characters.")] string? actor = null)
    {
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
