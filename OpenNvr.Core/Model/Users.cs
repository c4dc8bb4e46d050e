namespace OpenNvr.Core.Model;

/// <summary>The three roles of the contract: admin (everything), operator (cameras and events), viewer (read only).</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Viewer = "viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Operator, Viewer];

    public static bool IsKnown(string? role) => role is Admin or Operator or Viewer;
}

public sealed class User
{
    public int Id { get; set; }
    public required string Username { get; set; }
    public required string PasswordHash { get; set; }
    public required string Role { get; set; }
    public bool IsActive { get; set; } = true;
    public int FailedLoginCount { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastLoginAt { get; set; }
    public List<CameraGrant> CameraGrants { get; set; } = [];

    /// <summary>
    /// Changes whenever the user's standing changes (password, role, active flag, two-factor enrolment). Access and
    /// media tokens carry the stamp they were issued with; a token whose stamp is no longer the user's is refused.
    /// </summary>
    public string SecurityStamp { get; set; } = NewSecurityStamp();

    /// <summary>The TOTP secret, encrypted with Data Protection; set by MFA setup, pending until <see cref="MfaEnabledAt"/>.</summary>
    public string? MfaSecretProtected { get; set; }

    public DateTimeOffset? MfaEnabledAt { get; set; }

    /// <summary>The RFC 6238 time step of the last accepted code: a code of this step or an earlier one is a replay.</summary>
    public long? MfaLastTimeStep { get; set; }

    public bool MfaEnabled => MfaEnabledAt is not null;

    public void RotateSecurityStamp() => SecurityStamp = NewSecurityStamp();

    public static string NewSecurityStamp() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}

/// <summary>A non-admin sees a camera (its recordings and events) only when granted.</summary>
public sealed class CameraGrant
{
    public int UserId { get; set; }
    public int CameraId { get; set; }
}

/// <summary>
/// Opaque refresh token, stored as its SHA-256 only. Tokens issued from one login form a family; using a token
/// rotates it (UsedAt set, a successor issued); presenting a used or revoked token again revokes the whole family.
/// </summary>
public sealed class RefreshToken
{
    public long Id { get; set; }
    public int UserId { get; set; }
    public Guid FamilyId { get; set; }
    public required byte[] TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When the whole login ("family") ends, however often it is refreshed (Auth:RefreshFamilyDays).</summary>
    public DateTimeOffset FamilyExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public int? ActorUserId { get; set; }
    public string? ActorName { get; set; }
    public required string Action { get; set; }
    public string? TargetType { get; set; }
    public string? TargetId { get; set; }
    public string? ClientIp { get; set; }
    public string? Details { get; set; }
}
