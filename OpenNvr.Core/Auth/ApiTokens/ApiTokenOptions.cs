using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Auth.ApiTokens;

/// <summary>API tokens for REST clients: section <c>Auth:ApiTokens</c>.</summary>
public sealed class ApiTokenOptions
{
    public const string Section = "Auth:ApiTokens";

    /// <summary>The longest lifetime a token may be given (<c>expires_in_days</c>).</summary>
    [Range(1, 3650)]
    public int MaxLifetimeDays { get; set; } = 365;

    /// <summary>Live (unrevoked, unexpired) tokens a user may hold.</summary>
    [Range(1, 1000)]
    public int MaxTokensPerUser { get; set; } = 50;

    /// <summary>
    /// <c>last_used_at</c> is written at most this often per token: a client polling every second must not turn
    /// every read into a database write.
    /// </summary>
    [Range(1, 3600)]
    public int LastUsedResolutionSeconds { get; set; } = 60;
}
