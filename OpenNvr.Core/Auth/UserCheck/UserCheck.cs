using System.Security.Claims;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Auth.UserCheck;

/// <summary>A token whose user no longer stands where the token says: the detail tells the client what to do.</summary>
public sealed class UserStandingChangedException(string reason, string detail) : Exception(detail)
{
    public string Reason { get; } = reason;
}

/// <summary>
/// Re-checks on every authenticated request that the token's user exists, is active, still has the token's role
/// and the security stamp the token was issued with (a password, role or two-factor change rotates it). Grants are
/// read from nvrdb by each camera route, so they need no stamp.
/// </summary>
public sealed class UserCheck(UserStandingCache cache, IOptions<UserCheckOptions> options, TimeProvider clock)
{
    public bool Enabled { get; } = options.Value.Enabled;

    /// <summary>Null when the principal may go on; otherwise why not.</summary>
    public async Task<UserStandingChangedException?> CheckAsync(ClaimsPrincipal principal, NvrDbContext db, CancellationToken ct)
    {
        if (!Enabled)
        {
            return null;
        }

        var started = clock.GetTimestamp();
        if (!int.TryParse(principal.FindFirstValue(TokenClaims.Subject), out var userId))
        {
            return Refuse("no_subject", "The token names no user.");
        }

        var (standing, fromCache) = await cache.GetAsync(userId, db, ct);
        SecurityTelemetry.UserCheckDuration.Record(clock.GetElapsedTime(started).TotalMilliseconds,
            new KeyValuePair<string, object?>("cache", fromCache ? "hit" : "miss"));
        return Judge(principal, standing, checkStamp: true);
    }

    /// <summary>The verdict for a principal given the user's current standing (null: no such user).</summary>
    public static UserStandingChangedException? Judge(ClaimsPrincipal principal, UserStanding? standing, bool checkStamp)
    {
        if (standing is null)
        {
            return Refuse("deleted", "The user of this token no longer exists.");
        }

        if (!standing.IsActive)
        {
            return Refuse("disabled", "The user of this token is disabled.");
        }

        if (principal.Role() != standing.Role)
        {
            return Refuse("role_changed", "The user's role changed since this token was issued; log in again.");
        }

        if (checkStamp && principal.SecurityStamp() != standing.SecurityStamp)
        {
            return Refuse("stamp_changed", "The user's password or security settings changed since this token was issued; log in again.");
        }

        return null;
    }

    private static UserStandingChangedException Refuse(string reason, string detail)
    {
        SecurityTelemetry.UserCheckRefusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
        return new UserStandingChangedException(reason, detail);
    }
}
