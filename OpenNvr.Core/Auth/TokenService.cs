using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Auth;

public sealed record TokenResponse(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn);

public sealed record MediaTokenResponse(string Token, int ExpiresIn);

/// <summary>Issues access tokens (JWT, HS256), media tokens (JWT for query strings) and opaque refresh tokens.</summary>
public sealed class TokenService(IOptions<AuthOptions> options, JwtSigningKey signingKey, TimeProvider clock, IHttpContextAccessor httpContextAccessor)
{
    private readonly AuthOptions _options = options.Value;
    private readonly JsonWebTokenHandler _handler = new();

    public SymmetricSecurityKey SecurityKey { get; } = new(signingKey.Key);

    public string CreateAccessToken(User user, out int expiresInSeconds)
    {
        expiresInSeconds = _options.AccessTokenMinutes * 60;
        return Create(user, _options.Audience, clock.GetUtcNow().AddSeconds(expiresInSeconds), cameraId: null);
    }

    /// <summary>
    /// A media token for <paramref name="cameraId"/> acting as <paramref name="caller"/> (same user, role and
    /// security stamp, so the per-request user check ends it with the user's access), living
    /// <c>Auth:MediaTokenMinutes</c>. Only a login's access token mints one: a media token never buys the next (holding
    /// one link must not renew it forever), and an API token sends its header to media routes instead.
    /// </summary>
    public MediaTokenResponse CreateMediaToken(ClaimsPrincipal caller, int cameraId)
    {
        if (caller.MediaCamera() is not null || caller.ApiTokenId() is not null || caller.SecurityStamp() is null)
        {
            throw new InvalidOperationException("Media tokens are minted from a login's access token only.");
        }

        var expires = clock.GetUtcNow().AddMinutes(_options.MediaTokenMinutes);
        var user = new User
        {
            Id = caller.UserId(),
            Username = caller.UserName(),
            Role = caller.Role() ?? "",
            PasswordHash = "",
            SecurityStamp = caller.SecurityStamp()!,
        };
        var token = Create(user, _options.MediaAudience, expires, cameraId);
        return new MediaTokenResponse(token, _options.MediaTokenMinutes * 60);
    }

    /// <summary>The request's caller as <see cref="CreateMediaToken(ClaimsPrincipal, int)"/> needs it.</summary>
    public MediaTokenResponse CreateMediaToken(int userId, string username, string role, int cameraId)
    {
        var caller = httpContextAccessor.HttpContext?.User;
        if (caller is null || caller.UserId() != userId || caller.UserName() != username || caller.Role() != role)
        {
            throw new InvalidOperationException("Media tokens are minted for the caller of the current request only.");
        }

        return CreateMediaToken(caller, cameraId);
    }

    private string Create(User user, string audience, DateTimeOffset expires, int? cameraId)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var expiresAt = expires.UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            [TokenClaims.Subject] = user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [TokenClaims.Name] = user.Username,
            [TokenClaims.Role] = user.Role,
            [TokenClaims.SecurityStamp] = user.SecurityStamp,
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        if (cameraId is { } camera)
        {
            claims[TokenClaims.Camera] = camera.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = audience,
            // A token derived from one about to expire may have less than a second left; it must still be well formed.
            IssuedAt = now < expiresAt ? now : expiresAt.AddSeconds(-1),
            NotBefore = now < expiresAt ? now : expiresAt.AddSeconds(-1),
            Expires = expiresAt,
            Claims = claims,
            SigningCredentials = new SigningCredentials(SecurityKey, SecurityAlgorithms.HmacSha256),
        });
    }

    public TokenValidationParameters ValidationParameters(string audience) => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = audience,
        IssuerSigningKey = SecurityKey,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuerSigningKey = true,
        ValidateLifetime = true,
        ClockSkew = TimeSpan.FromSeconds(30),
        // Lifetimes are checked against the clock that issued them (the default validator reads DateTime.UtcNow).
        LifetimeValidator = ValidateLifetime,
        NameClaimType = TokenClaims.Name,
        RoleClaimType = TokenClaims.Role,
    };

    /// <summary>The default lifetime rules (and exceptions, which the 401 details name) on <see cref="TimeProvider"/>.</summary>
    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (expires is not { } expiry)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiry time.");
        }

        if (notBefore is { } start && start > expiry)
        {
            throw new SecurityTokenInvalidLifetimeException("The token's not-before time is after its expiry.") { NotBefore = start, Expires = expiry };
        }

        if (notBefore is { } begins && begins > now + parameters.ClockSkew)
        {
            throw new SecurityTokenNotYetValidException($"The token is not valid before {begins:O}.") { NotBefore = begins };
        }

        if (expiry < now - parameters.ClockSkew)
        {
            throw new SecurityTokenExpiredException($"The token expired at {expiry:O}.") { Expires = expiry };
        }

        return true;
    }

    /// <summary>
    /// Adds a new refresh token to the context: of a new family (a login) when <paramref name="family"/> is null,
    /// else the successor in that family, which never outlives the family's absolute end.
    /// </summary>
    public string AddRefreshToken(NvrDbContext db, int userId, (Guid Id, DateTimeOffset ExpiresAt)? family)
    {
        var token = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        var familyExpiresAt = family?.ExpiresAt ?? now.AddDays(_options.RefreshFamilyDays);
        var expiresAt = now.AddDays(_options.RefreshTokenDays);
        db.RefreshTokens.Add(new RefreshToken
        {
            UserId = userId,
            FamilyId = family?.Id ?? Guid.NewGuid(),
            TokenHash = Hash(token),
            CreatedAt = now,
            ExpiresAt = expiresAt < familyExpiresAt ? expiresAt : familyExpiresAt,
            FamilyExpiresAt = familyExpiresAt,
        });
        return token;
    }

    public async Task<TokenResponse> IssueAsync(NvrDbContext db, User user, (Guid Id, DateTimeOffset ExpiresAt)? family, CancellationToken ct)
    {
        var refresh = AddRefreshToken(db, user.Id, family);
        await db.SaveChangesAsync(ct);
        var access = CreateAccessToken(user, out var expiresIn);
        return new TokenResponse(access, refresh, "bearer", expiresIn);
    }

    public static byte[] Hash(string refreshToken) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(refreshToken));

    /// <summary>Revokes every unrevoked token of a family (reuse detected, or logout).</summary>
    public Task<int> RevokeFamilyAsync(NvrDbContext db, Guid familyId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return db.RefreshTokens.Where(t => t.FamilyId == familyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
    }
}
