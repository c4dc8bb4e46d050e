using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth.Lockout;
using OpenNvr.Core.Auth.Mfa;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Auth;

public abstract record LoginResult
{
    public sealed record Success(TokenResponse Tokens) : LoginResult;
    public sealed record InvalidCredentials : LoginResult;

    /// <summary>The password was right but the user has two-factor login: a code (or a recovery code) is needed.</summary>
    public sealed record SecondFactorRequired(string Detail) : LoginResult;

    /// <summary>This user name from this client address must wait before trying again.</summary>
    public sealed record Locked(int RetryAfterSeconds) : LoginResult;
}

/// <summary>
/// Password check with growing delays per user name and client address (<see cref="LoginThrottle"/>), the second
/// factor for users who enrolled one, refresh-token rotation with reuse detection.
/// </summary>
public sealed class LoginService(
    NvrDbContext db,
    IPasswordHasher<User> hasher,
    TokenService tokens,
    LoginThrottle throttle,
    TotpService totp,
    TimeProvider clock,
    ILogger<LoginService> logger)
{
    // Verifying against a real hash for unknown users keeps the answer time from revealing which names exist.
    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<User>().HashPassword(null!, "not-a-real-password-" + Guid.NewGuid()));

    public async Task<LoginResult> LoginAsync(HttpContext http, string username, string password, string? otp, CancellationToken ct)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity("auth.login");
        var name = UsernamePolicy.Normalize(username);
        // Unknown names are throttled exactly like known ones, so neither the delays nor the answers tell them apart.
        var subject = LoginThrottle.SubjectKey(name);
        var client = LoginThrottle.ClientKey(http.Connection.RemoteIpAddress);
        if (await throttle.WaitAsync(db, subject, client, ct) is { } wait)
        {
            return await LockedAsync(http, name, wait, ct);
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Username == name, ct);
        if (user is null || !user.IsActive)
        {
            hasher.VerifyHashedPassword(null!, DummyHash.Value, password);
            return await FailAsync(http, name, subject, client, user?.Id, user is null ? "unknown user" : "inactive user", ct);
        }

        var verification = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (verification == PasswordVerificationResult.Failed)
        {
            return await FailAsync(http, name, subject, client, user.Id, "wrong password", ct);
        }

        var usedRecoveryCode = false;
        if (user.MfaEnabled)
        {
            if (string.IsNullOrWhiteSpace(otp))
            {
                // Not a failure: the client asks the person for the code and repeats the login with it.
                return new LoginResult.SecondFactorRequired("This account uses two-factor login: send the code of your authenticator app (or a recovery code) as otp.");
            }

            var second = await totp.VerifyAsync(db, user, otp, ct);
            if (second is not (SecondFactorResult.Accepted or SecondFactorResult.AcceptedRecoveryCode))
            {
                var failed = await FailAsync(http, name, subject, client, user.Id, second == SecondFactorResult.Replayed ? "replayed code" : "wrong code", ct);
                return failed is LoginResult.Locked ? failed : new LoginResult.SecondFactorRequired(second == SecondFactorResult.Replayed
                    ? "This code was already used; wait for the next one of your authenticator app."
                    : "The two-factor code is wrong or expired.");
            }

            usedRecoveryCode = second == SecondFactorResult.AcceptedRecoveryCode;
        }

        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, password);
        }

        await throttle.ResetAsync(db, subject, client, ct);
        user.LastLoginAt = clock.GetUtcNow();
        db.Audit(http, "auth.login", "user", user.Id, usedRecoveryCode ? new { recovery_code = true } : null, actorName: user.Username, actorId: user.Id);
        var issued = await tokens.IssueAsync(db, user, family: null, ct);
        CoreTelemetry.Logins.Add(1, new KeyValuePair<string, object?>("result", "success"));
        CoreLog.LoginSucceeded(logger, user.Username);
        return new LoginResult.Success(issued);
    }

    private async Task<LoginResult> FailAsync(HttpContext http, string name, string subject, string client, int? userId, string reason, CancellationToken ct)
    {
        var (failures, wait) = await throttle.RecordFailureAsync(db, subject, client, ct);
        db.Audit(http, "auth.login_failed", "user", userId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? name,
            new { reason, failures }, actorName: name, actorId: userId);
        await db.SaveChangesAsync(ct);
        CoreTelemetry.Logins.Add(1, new KeyValuePair<string, object?>("result", "failure"));
        CoreLog.LoginFailed(logger, LogValues.Sanitize(name), reason);
        return wait > TimeSpan.Zero ? new LoginResult.Locked(Seconds(wait)) : new LoginResult.InvalidCredentials();
    }

    private async Task<LoginResult> LockedAsync(HttpContext http, string name, TimeSpan wait, CancellationToken ct)
    {
        db.Audit(http, "auth.login_throttled", "user", name, actorName: name);
        await db.SaveChangesAsync(ct);
        CoreTelemetry.Logins.Add(1, new KeyValuePair<string, object?>("result", "locked"));
        CoreLog.LoginFailed(logger, LogValues.Sanitize(name), "throttled");
        return new LoginResult.Locked(Seconds(wait));
    }

    private static int Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

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
