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
