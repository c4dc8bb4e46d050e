namespace OpenNvr.Core.Model;

/// <summary>
/// A long-lived credential for REST clients (<c>Authorization: Bearer onvr_…</c>). Only a keyed hash of the token is
/// stored; the token itself is shown once, at creation. It acts for its creator with at most <see cref="Role"/> and,
/// when <see cref="CameraIds"/> is set, only on those cameras; never with more than the creator has at the time of use.
/// </summary>
public sealed class ApiToken
{
    public long Id { get; set; }
    public int UserId { get; set; }
    public required string Name { get; set; }
    public required string Role { get; set; }

    /// <summary>Null: every camera the creator may see.</summary>
    public int[]? CameraIds { get; set; }

    public required byte[] TokenHash { get; set; }

    /// <summary>The first characters of the token (<c>onvr_AbCd</c>), so that a user can tell tokens apart in a list.</summary>
    public required string Prefix { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A single-use two-factor recovery code, stored as a keyed hash.</summary>
public sealed class MfaRecoveryCode
{
    public long Id { get; set; }
    public int UserId { get; set; }
    public required byte[] CodeHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>
/// Failed logins of one user name from one client address (IPv6: its /64). The pair, not the account, is slowed
/// down, so an attacker elsewhere cannot lock the user out; the name need not exist, so the answer does not tell.
/// </summary>
public sealed class LoginThrottleEntry
{
    public required string Subject { get; set; }
    public required string Client { get; set; }
    public int Failures { get; set; }
    public DateTimeOffset LastFailureAt { get; set; }
    public DateTimeOffset? BlockedUntil { get; set; }
}
