using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Auth.ApiTokens;

/// <summary>What a user asks for when creating an API token.</summary>
public sealed record ApiTokenSpec(string Name, string Role, IReadOnlyList<int>? CameraIds, int ExpiresInDays);

/// <summary>A token as listed (never the token itself).</summary>
public sealed record ApiTokenInfo(
    long Id,
    int UserId,
    string Name,
    string Role,
    IReadOnlyList<int>? CameraIds,
    string Prefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt)
{
    public static ApiTokenInfo From(ApiToken t) =>
        new(t.Id, t.UserId, t.Name, t.Role, t.CameraIds, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt);
}

/// <summary>A created token: <see cref="Token"/> is shown this once.</summary>
public sealed record CreatedApiToken(ApiTokenInfo Info, string Token);

public abstract record ApiTokenCreation
{
    public sealed record Created(CreatedApiToken Token) : ApiTokenCreation;

    /// <summary>The request asks for more than the creator has, or is malformed: a 400 problem.</summary>
    public sealed record Refused(string Detail) : ApiTokenCreation;
}

/// <summary>
/// API tokens: <c>onvr_</c> + 256 random bits (base64url), stored as a keyed hash (<see cref="SecretHasher"/>).
/// A token never carries more rights than its creator: checked when it is created (role and cameras) and again on
/// every use (the creator must exist and be active; the role is capped by the creator's current role; grants apply).
/// </summary>
public sealed class ApiTokenService(SecretHasher hasher, TimeProvider clock, IOptions<ApiTokenOptions> options)
{
    public const string TokenPrefix = "onvr_";
    public const int NameMaxLength = 100;
    private const int RandomBytes = 32;
    private const int ShownPrefixLength = 9;

    private readonly ApiTokenOptions _options = options.Value;

    /// <summary>Whether a bearer credential is an API token (rather than a JWT) by its form alone.</summary>
    public static bool LooksLikeApiToken(string? credential) =>
        credential is not null && credential.StartsWith(TokenPrefix, StringComparison.Ordinal);

    /// <summary>Creates a token for <paramref name="creator"/> (the caller of the request, from an access token).</summary>
    public async Task<ApiTokenCreation> CreateAsync(NvrDbContext db, ClaimsPrincipal creator, ApiTokenSpec spec, CancellationToken ct)
    {
        if (creator.ApiTokenId() is not null || creator.MediaCamera() is not null)
        {
            return new ApiTokenCreation.Refused("API tokens are created after a login, not with another token.");
        }

        var name = spec.Name?.Trim() ?? "";
        if (name.Length is 0 or > NameMaxLength || name.Any(char.IsControl))
        {
            return new ApiTokenCreation.Refused($"name must be 1-{NameMaxLength} characters without control characters.");
        }

        if (!Roles.IsKnown(spec.Role))
        {
            return new ApiTokenCreation.Refused($"role must be one of {string.Join(", ", Roles.All)}.");
        }

        if (spec.ExpiresInDays < 1 || spec.ExpiresInDays > _options.MaxLifetimeDays)
        {
            return new ApiTokenCreation.Refused($"expires_in_days must be between 1 and {_options.MaxLifetimeDays}.");
        }

        var creatorRole = creator.Role() ?? "";
        if (Rank(spec.Role) > Rank(creatorRole))
        {
            return new ApiTokenCreation.Refused($"A token cannot have more rights than its creator: your role is '{creatorRole}', the token asks for '{spec.Role}'.");
        }

        int[]? cameraIds = null;
        if (spec.CameraIds is not null)
        {
            cameraIds = spec.CameraIds.Distinct().Order().ToArray();
            if (cameraIds.Length == 0)
            {
                return new ApiTokenCreation.Refused("camera_ids must name at least one camera; leave it out for every camera you may see.");
            }

            var visible = db.VisibleCameraIds(creator);
            var known = await (visible is null ? db.Cameras.Select(c => c.Id) : visible)
                .Where(id => cameraIds.Contains(id)).ToListAsync(ct);
            if (cameraIds.Except(known).ToList() is [var missing, ..])
            {
                // Same answer for a camera that does not exist and one the creator may not see.
                return new ApiTokenCreation.Refused($"camera_ids: camera {missing} does not exist.");
            }
        }

        var userId = creator.UserId();
        var now = clock.GetUtcNow();
        var live = await db.ApiTokens.CountAsync(t => t.UserId == userId && t.RevokedAt == null && t.ExpiresAt > now, ct);
        if (live >= _options.MaxTokensPerUser)
        {
            return new ApiTokenCreation.Refused($"You already hold {live} live API tokens (Auth:ApiTokens:MaxTokensPerUser); revoke one first.");
        }

        var token = TokenPrefix + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(RandomBytes));
        var entity = new ApiToken
        {
            UserId = userId,
            Name = name,
            Role = spec.Role,
            CameraIds = cameraIds,
            TokenHash = hasher.Hash(token),
            Prefix = token[..ShownPrefixLength],
            CreatedAt = now,
            ExpiresAt = now.AddDays(spec.ExpiresInDays),
        };
        db.ApiTokens.Add(entity);
        await db.SaveChangesAsync(ct);
        return new ApiTokenCreation.Created(new CreatedApiToken(ApiTokenInfo.From(entity), token));
    }

    /// <summary>The caller's tokens, newest first; an admin may ask for everyone's.</summary>
    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync(NvrDbContext db, ClaimsPrincipal caller, bool everyone, CancellationToken ct)
    {
        var userId = caller.UserId();
        var tokens = await db.ApiTokens.AsNoTracking()
            .Where(t => everyone && caller.IsAdmin() || t.UserId == userId)
            .OrderByDescending(t => t.Id)
            .ToListAsync(ct);
        return tokens.Select(ApiTokenInfo.From).ToList();
    }

    /// <summary>Revokes a token of the caller (an admin: anyone's). Null when there is no such token for the caller.</summary>
    public async Task<ApiTokenInfo?> RevokeAsync(NvrDbContext db, ClaimsPrincipal caller, long id, CancellationToken ct)
    {
        var userId = caller.UserId();
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == id && (t.UserId == userId || caller.IsAdmin()), ct);
        if (token is null)
        {
            return null;
        }

        token.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return ApiTokenInfo.From(token);
    }

    /// <summary>
    /// The principal an API token stands for, or why it is refused. One indexed read per request (token and creator
    /// together), so revocation, expiry and the creator's standing take effect at once; <c>last_used_at</c> is
    /// written at most once per <see cref="ApiTokenOptions.LastUsedResolutionSeconds"/>.
    /// </summary>
    public async Task<(ClaimsPrincipal? Principal, string? Refusal)> AuthenticateAsync(NvrDbContext db, string token, string scheme, CancellationToken ct)
    {
        var hash = hasher.Hash(token);
        var found = await db.ApiTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Join(db.Users, t => t.UserId, u => u.Id, (t, u) => new { Token = t, u.Username, u.Role, u.IsActive })
            .SingleOrDefaultAsync(ct);
        var now = clock.GetUtcNow();
        var refusal = found switch
        {
            null => "The API token is unknown.",
            { Token.RevokedAt: not null } => "The API token has been revoked.",
            _ when found.Token.ExpiresAt <= now => "The API token has expired.",
            { IsActive: false } => "The user who created this API token is disabled.",
            _ => null,
        };
        SecurityTelemetry.ApiTokenUses.Add(1, new KeyValuePair<string, object?>("result", refusal is null ? "accepted" : "refused"));
        if (refusal is not null)
        {
            return (null, refusal);
        }

        var t = found!.Token;
        if (t.LastUsedAt is null || now - t.LastUsedAt.Value >= TimeSpan.FromSeconds(_options.LastUsedResolutionSeconds))
        {
            var stale = now.AddSeconds(-_options.LastUsedResolutionSeconds);
            // Conditional, so that of many parallel requests only one writes, and none waits on a row lock for long.
            await db.ApiTokens.Where(x => x.Id == t.Id && (x.LastUsedAt == null || x.LastUsedAt <= stale))
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastUsedAt, now), ct);
        }

        // The token's role, capped by what its creator is now.
        var role = Rank(found.Role) < Rank(t.Role) ? found.Role : t.Role;
        var claims = new List<Claim>
        {
            new(TokenClaims.Subject, t.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(TokenClaims.Name, found.Username),
            new(TokenClaims.Role, role),
            new(TokenClaims.ApiToken, t.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        claims.AddRange((t.CameraIds ?? []).Select(c => new Claim(TokenClaims.TokenCamera, c.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        return (new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, TokenClaims.Name, TokenClaims.Role)), null);
    }

    /// <summary>admin 3 > operator 2 > viewer 1; unknown 0.</summary>
    public static int Rank(string? role) => role switch
    {
        Roles.Admin => 3,
        Roles.Operator => 2,
        Roles.Viewer => 1,
        _ => 0,
    };
}
