using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Auth.Lockout;

/// <summary>
/// Growing delays after failed logins, per user name and client address: section <c>Auth:Lockout</c>. After
/// <see cref="FreeFailures"/> failures the pair waits <see cref="FirstDelaySeconds"/>, then twice as long after each
/// further failure, up to <see cref="MaxDelaySeconds"/>; a success, or <see cref="ResetAfterMinutes"/> without a
/// failure, forgets the pair.
/// </summary>
public sealed class LoginThrottleOptions : IValidatableObject
{
    public const string Section = "Auth:Lockout";

    [Range(1, 100)]
    public int FreeFailures { get; set; } = 5;

    [Range(1, 3600)]
    public int FirstDelaySeconds { get; set; } = 2;

    [Range(1, 86_400)]
    public int MaxDelaySeconds { get; set; } = 300;

    [Range(1, 10_080)]
    public int ResetAfterMinutes { get; set; } = 60;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxDelaySeconds < FirstDelaySeconds)
        {
            yield return new ValidationResult(
                $"{Section}:MaxDelaySeconds ({MaxDelaySeconds}) must be at least {Section}:FirstDelaySeconds ({FirstDelaySeconds}).",
                [nameof(MaxDelaySeconds)]);
        }
    }

    /// <summary>The wait imposed after the <paramref name="failures"/>-th consecutive failure (zero while free).</summary>
    public TimeSpan DelayAfter(int failures)
    {
        if (failures < FreeFailures)
        {
            return TimeSpan.Zero;
        }

        var doublings = Math.Min(failures - FreeFailures, 30);
        return TimeSpan.FromSeconds(Math.Min((double)FirstDelaySeconds * (1L << doublings), MaxDelaySeconds));
    }
}
