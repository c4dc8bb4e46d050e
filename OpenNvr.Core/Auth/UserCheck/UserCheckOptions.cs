using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Auth.UserCheck;

/// <summary>The per-request user check: section <c>Auth:UserCheck</c>.</summary>
public sealed class UserCheckOptions
{
    public const string Section = "Auth:UserCheck";

    /// <summary>
    /// How long one replica trusts what it read about a user. Disabling, demoting or removing a user takes effect
    /// on every replica within this time; the issue caps it at 5 s. 0 reads the database on every request.
    /// </summary>
    [Range(0, 5)]
    public double CacheSeconds { get; set; } = 5;

    /// <summary>
    /// Only for the benchmark's baseline: without the check, a disabled or demoted user keeps the rights of the
    /// tokens already issued until they expire. Never turn it off in production.
    /// </summary>
    public bool Enabled { get; set; } = true;
}
