using System.Text.Json;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Audit;

/// <summary>
/// Adds audit rows to the same unit of work as the change they describe, so that a change and its audit entry are
/// stored together or not at all. Never put secrets into <c>details</c>.
/// </summary>
public static class AuditTrail
{
    private static readonly JsonSerializerOptions DetailsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Audit(this NvrDbContext db, HttpContext http, string action, string? targetType = null, object? targetId = null,
        object? details = null, string? actorName = null, int? actorId = null)
    {
        var user = http.User;
        var authenticated = user.Identity?.IsAuthenticated == true;
        db.AuditLog.Add(new AuditEntry
        {
            At = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(),
            ActorUserId = actorId ?? (authenticated ? user.UserId() : null),
            ActorName = Truncate(actorName ?? (authenticated ? user.UserName() : null), 64),
            Action = action,
            TargetType = targetType,
            TargetId = Truncate(targetId?.ToString(), 64),
            ClientIp = http.Connection.RemoteIpAddress?.ToString(),
            Details = details is null ? null : JsonSerializer.Serialize(details, DetailsJson),
        });
    }

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
