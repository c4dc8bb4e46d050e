using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Contracts;

/// <summary>
/// The one range of every time parameter in Unix seconds (query windows, playlists, event searches, internal
/// registrations): finite, from 0 (1970) up to <see cref="MaxSeconds"/> (2200-01-01, the upper bound of
/// <see cref="UnixMillisecondsAttribute"/>). The range is checked before the value is used: <see cref="DateTimeOffset"/>
/// ends at 9999-12-31, so a value such as <c>253402300800</c> or <c>1e20</c> would otherwise overflow into a 500, and no
/// recording or event of this system can lie beyond 2200 anyway.
/// </summary>
public static class UnixTime
{
    public const double MaxSeconds = 7_258_118_400;

    /// <summary>How a problem names the rule, after the parameter's name.</summary>
    public const string Rule = "must be finite Unix seconds between 0 and 7258118400 (the year 2200)";

    public static bool IsValidSeconds(double seconds) => double.IsFinite(seconds) && seconds is >= 0 and <= MaxSeconds;

    /// <summary>The problem of <paramref name="seconds"/> named <paramref name="field"/>, or null when it is in range (null passes).</summary>
    public static string? Check(double? seconds, string field) =>
        seconds is { } s && !IsValidSeconds(s) ? $"{field} {Rule}." : null;

    /// <summary>An instant from checked Unix seconds (microsecond precision, as PostgreSQL keeps it).</summary>
    public static DateTimeOffset FromSeconds(double seconds) =>
        IsValidSeconds(seconds)
            ? DateTimeOffset.UnixEpoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond))
            : throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "Unix seconds " + Rule + "; check them before use.");

    public static double ToSeconds(DateTimeOffset at) => (at - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;
}

/// <summary>
/// Unix seconds in <see cref="UnixTime"/>'s range (null passes: add <see cref="RequiredAttribute"/>). A
/// <see cref="RangeAttribute"/>, so that OpenAPI documents show the bounds; unlike a plain range it refuses NaN.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class UnixSecondsAttribute : RangeAttribute
{
    public UnixSecondsAttribute() : base(0d, UnixTime.MaxSeconds) => ErrorMessage = "{0} " + UnixTime.Rule + ".";

    public override bool IsValid(object? value) => value is null || value is double d && UnixTime.IsValidSeconds(d);
}
