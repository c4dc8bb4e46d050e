using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Auth;

public abstract record LoginResult
{
    public sealed record Success(TokenResponse Tokens) : LoginResult;
    public sealed record InvalidCredentials : LoginResult;
    public sealed record Locked(int RetryAfterSeconds) : LoginResult;
}

/// <summary>Password check with lockout, refresh-token rotation with reuse detection.</summary>
public sealed class LoginService(
    NvrDbContext db,
    IPasswordHasher<User> hasher,
    TokenService tokens,
    IOptions<AuthOptions> options,
    TimeProvider clock,
    ILogger<LoginService> logger)
{
    // Verifying against a real hash for unknown users keeps the answer time from revealing which names exist.
    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<User>().HashPassword(null!, "not-a-real-password-" + Guid.NewGuid()));

    public async Task<LoginResult> LoginAsync(HttpContext http, string username, string password, CancellationToken ct)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity("auth.login");
        var name = UsernamePolicy.Normalize(username);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Username == name, ct);
        var now = clock.GetUtcNow();

        if (user is null || !user.IsActive)
        {
            hasher.VerifyHashedPassword(null!, DummyHash.Value, password);
            return await FailAsync(http, name, user?.Id, user is null ? "unknown user" : "inactive user", ct);
        }

        if (user.LockedUntil is { } lockedUntil && lockedUntil > now)
        {
            return await LockedAsync(http, user, lockedUntil, ct);
        }

        var verification = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (verification == PasswordVerificationResult.Failed)
        {
            // Increment in the database so that parallel guesses cannot race past the threshold.
            var failures = await db.Database
                .SqlQuery<int>($"UPDATE users SET failed_login_count = failed_login_count + 1 WHERE id = {user.Id} RETURNING failed_login_count AS \"Value\"")
                .ToListAsync(ct);
            if (failures.Count == 1 && failures[0] >= options.Value.LockoutThreshold)
            {
                var until = now.AddMinutes(options.Value.LockoutMinutes);
                await db.Users.Where(u => u.Id == user.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(u => u.LockedUntil, until).SetProperty(u => u.FailedLoginCount, 0), ct);
                db.Audit(http, "auth.lockout", "user", user.Id, new { failures = failures[0] }, actorName: name, actorId: user.Id);
                return await LockedAsync(http, user, until, ct);
            }

            return await FailAsync(http, name, user.Id, "wrong password", ct);
        }

        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, password);
        }

        user.FailedLoginCount = 0;
        user.LockedUntil = null;
        user.LastLoginAt = now;
        db.Audit(http, "auth.login", "user", user.Id, actorName: user.Username, actorId: user.Id);
        var issued = await tokens.IssueAsync(db, user, family: null, ct);
        CoreTelemetry.Logins.Add(1, new KeyValuePair<string, object?>("result", "success"));
        CoreLog.LoginSucceeded(logger, user.Username);
        return new LoginResult.Success(issued);
    }

    private async Task<LoginResult> FailAsync(HttpContext http, string name, int? userId, string reason, CancellationToken ct)
    {
        db.Audit(http, "auth.login_failed", "user", userId?.ToString() ?? name, new { reason }, actorName: name, actorId: userId);
        await db.SaveChangesAsync(ct);
        CoreTelemetry.Logins.Add(1, new KeyValuePair<string, object?>("result", "failure"));
        CoreLog.LoginFailed(logger, LogValues.Sanitize(name), reason);
        return new LoginResult.InvalidCredentials();
    }

    private async Task<LoginResult> LockedAsync(HttpContext http, User user, DateTimeOffset until, CancellationToken ct)
    {
        db.Audit(http, "auth.login_locked", "user", user.Id, actorName: user.Username, actorId: user.Id);
        await db.SaveChangesAsync(ct);
        CoreTelemetry.Logins.Add(1, new KeyValuePair<string, object?>("result", "locked"));
        CoreLog.LoginFailed(logger, user.Username, "locked");
        return new LoginResult.Locked(Math.Max(1, (int)Math.Ceiling((until - clock.GetUtcNow()).TotalSeconds)));
    }

    /// <summary>Rotates a refresh token. Null when the token is unknown, expired, revoked or reused (reuse revokes its family).</summary>
    public async Task<TokenResponse?> RefreshAsync(HttpContext http, string refreshToken, CancellationToken ct)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity("auth.refresh");
        var hash = TokenService.Hash(refreshToken);
        var stored = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, ct);
        var now = clock.GetUtcNow();
        if (stored is null || stored.ExpiresAt <= now || stored.FamilyExpiresAt <= now)
        {
            return null;
        }

        // Claim the token atomically: of two concurrent uses only one rotates, the other counts as reuse.
        var claimed = stored.UsedAt is null && stored.RevokedAt is null && await db.RefreshTokens
            .Where(t => t.Id == stored.Id && t.UsedAt == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct) == 1;
        if (!claimed)
        {
            await tokens.RevokeFamilyAsync(db, stored.FamilyId, ct);
            db.Audit(http, "auth.refresh_reuse", "user", stored.UserId, new { family = stored.FamilyId }, actorId: stored.UserId);
            await db.SaveChangesAsync(ct);
            CoreLog.RefreshTokenReuse(logger, stored.UserId, stored.FamilyId);
            return null;
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == stored.UserId && u.IsActive, ct);
        if (user is null)
        {
            return null;
        }

        return await tokens.IssueAsync(db, user, (stored.FamilyId, stored.FamilyExpiresAt), ct);
    }
}
