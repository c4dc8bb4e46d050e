using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Auth.Mfa;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Apis;

/// <summary><c>otp</c>: the code of the authenticator app (or a recovery code) of a user with two-factor login.</summary>
public sealed record LoginRequest(string Username, string Password, string? Otp = null);

public sealed record RefreshRequest(string RefreshToken);

public sealed record LogoutRequest(string? RefreshToken = null);

public sealed record UserDto(
    int Id,
    string Username,
    string Role,
    bool IsActive,
    IReadOnlyList<int> CameraIds,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastLoginAt,
    DateTimeOffset? LockedUntil,
    bool MfaEnabled = false)
{
    public static UserDto From(User u) =>
        new(u.Id, u.Username, u.Role, u.IsActive, u.CameraGrants.Select(g => g.CameraId).Order().ToList(), u.CreatedAt, u.LastLoginAt, u.LockedUntil, u.MfaEnabled);
}

public static class AuthApi
{
    private const int MaxCredentialLength = 256;

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/auth").WithTags("Auth");

        // The body is read by hand (form or JSON), so the request type is declared; 415 (routing) and 429 (rate
        // limiter) are answered before the handler runs.
        api.MapPost("/login", LoginAsync)
            .WithName("login")
            .AllowAnonymous()
            .RequireRateLimiting(AuthPolicies.LoginRateLimit)
            .Accepts<LoginRequest>("application/json", "application/x-www-form-urlencoded")
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Exchanges a username and password (form or JSON) for an access token and a refresh token");

        api.MapPost("/refresh", RefreshAsync)
            .WithName("refreshToken")
            .AllowAnonymous()
            .RequireRateLimiting(AuthPolicies.LoginRateLimit)
            .Accepts<RefreshRequest>("application/json", "application/x-www-form-urlencoded")
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Rotates a refresh token: new access and refresh tokens; reusing a rotated token revokes its family");

        api.MapPost("/logout", LogoutAsync)
            .WithName("logout")
            .RequireAuthorization()
            .WithMetadata(MfaEnrolment.AllowedBeforeEnrolment)
            .Accepts<LogoutRequest>(isOptional: true, "application/json", "application/x-www-form-urlencoded")
            .WithSummary("Revokes the given refresh token's family, or every refresh token of the caller when none is given");

        api.MapGet("/me", MeAsync)
            .WithName("getCurrentUser")
            .RequireAuthorization()
            .WithMetadata(MfaEnrolment.AllowedBeforeEnrolment)
            .WithSummary("The current user with role and camera grants");
        return app;
    }

    /// <summary>Reads a form (OAuth2 password style) or a JSON body into <typeparamref name="T"/>.</summary>
    private static async Task<(T? Value, string? Problem)> ReadBodyAsync<T>(HttpRequest request, Func<IFormCollection, T?> fromForm, CancellationToken ct)
        where T : class
    {
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            return (fromForm(form), null);
        }

        if (!request.HasJsonContentType())
        {
            return (null, "Send application/json or application/x-www-form-urlencoded.");
        }

        try
        {
            var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            return (await request.ReadFromJsonAsync<T>(options, ct), null);
        }
        catch (JsonException ex)
        {
            return (null, "Invalid JSON body: " + ex.Message);
        }
    }

    private static async Task<Results<Ok<TokenResponse>, BadRequestProblem, UnauthorizedProblem, MfaRequiredProblem, LockedProblem>> LoginAsync(HttpContext http, LoginService logins, CancellationToken ct)
    {
        var (request, problem) = await ReadBodyAsync(http.Request,
            form => form.TryGetValue("username", out var u) && form.TryGetValue("password", out var p)
                ? new LoginRequest(u.ToString(), p.ToString(), form.TryGetValue("otp", out var o) ? o.ToString() : null)
                : null, ct);
        if (problem is not null)
        {
            return new BadRequestProblem(problem);
        }

        if (request is null || string.IsNullOrEmpty(request.Username) || string.IsNullOrEmpty(request.Password))
        {
            return new BadRequestProblem("username and password are required.");
        }

        if (request.Username.Length > MaxCredentialLength || request.Password.Length > MaxCredentialLength || request.Otp?.Length > MaxCredentialLength)
        {
            return new BadRequestProblem($"username, password and otp must be at most {MaxCredentialLength} characters.");
        }

        switch (await logins.LoginAsync(http, request.Username, request.Password, request.Otp, ct))
        {
            case LoginResult.Success success:
                return TypedResults.Ok(success.Tokens);
            case LoginResult.SecondFactorRequired second:
                return new MfaRequiredProblem(second.Detail);
            case LoginResult.Locked locked:
                // Only this user name from this address waits; the same answer whether or not the name exists.
                http.Response.Headers.RetryAfter = locked.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return new LockedProblem(
                    $"Too many failed logins for this user name from your address; retry in {locked.RetryAfterSeconds} s.", locked.RetryAfterSeconds);
            default:
                return new UnauthorizedProblem("Invalid username or password.");
        }
    }

    private static async Task<Results<Ok<TokenResponse>, BadRequestProblem, UnauthorizedProblem>> RefreshAsync(HttpContext http, LoginService logins, CancellationToken ct)
    {
        var (request, problem) = await ReadBodyAsync(http.Request,
            form => form.TryGetValue("refresh_token", out var t) ? new RefreshRequest(t.ToString()) : null, ct);
        if (problem is not null)
        {
            return new BadRequestProblem(problem);
        }

        if (request is null || string.IsNullOrEmpty(request.RefreshToken) || request.RefreshToken.Length > MaxCredentialLength)
        {
            return new BadRequestProblem("refresh_token is required.");
        }

        var tokens = await logins.RefreshAsync(http, request.RefreshToken, ct);
        return tokens is null
            ? new UnauthorizedProblem("The refresh token is unknown, expired or revoked; log in again.")
            : TypedResults.Ok(tokens);
    }

    private static async Task<Results<NoContent, BadRequestProblem>> LogoutAsync(HttpContext http, NvrDbContext db, TokenService tokens, TimeProvider clock, CancellationToken ct)
    {
        LogoutRequest? request = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            (request, var problem) = await ReadBodyAsync(http.Request,
                form => new LogoutRequest(form.TryGetValue("refresh_token", out var t) ? t.ToString() : null), ct);
            if (problem is not null)
            {
                return new BadRequestProblem(problem);
            }
        }

        var userId = http.User.UserId();
        if (!string.IsNullOrEmpty(request?.RefreshToken))
        {
            var hash = TokenService.Hash(request.RefreshToken);
            var family = await db.RefreshTokens.Where(t => t.TokenHash == hash && t.UserId == userId).Select(t => (Guid?)t.FamilyId).SingleOrDefaultAsync(ct);
            if (family is { } familyId)
            {
                await tokens.RevokeFamilyAsync(db, familyId, ct);
            }
        }
        else
        {
            var now = clock.GetUtcNow();
            await db.RefreshTokens.Where(t => t.UserId == userId && t.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        }

        db.Audit(http, "auth.logout", "user", userId);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserDto>, UnauthorizedProblem>> MeAsync(HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        var userId = http.User.UserId();
        var user = await db.Users.AsNoTracking().Include(u => u.CameraGrants).SingleOrDefaultAsync(u => u.Id == userId, ct);
        return user is null ? new UnauthorizedProblem("The user of this token no longer exists.") : TypedResults.Ok(UserDto.From(user));
    }
}
