using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace OpenNvr.Core.Auth;

public static partial class PasswordPolicy
{
    public const int MinimumLength = 12;
    public const int MaximumLength = 256;

    /// <summary>Null when acceptable, else what is wrong (for a problem's detail).</summary>
    public static string? Check(string? password)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinimumLength)
        {
            return $"The password must be at least {MinimumLength} characters long.";
        }

        if (password.Length > MaximumLength)
        {
            return $"The password must be at most {MaximumLength} characters long.";
        }

        return password.Any(char.IsControl) ? "The password must not contain control characters." : null;
    }
}

/// <summary>The password policy as a validation attribute of request records (null means "unchanged" and passes).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ValidPasswordAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is null || PasswordPolicy.Check(value as string) is not { } problem
            ? ValidationResult.Success
            : new ValidationResult(problem, validationContext.MemberName is { } member ? [member] : null);
}

public static partial class UsernamePolicy
{
    /// <summary>User names are stored lower-case: 'Admin' and 'admin' are one account.</summary>
    public static string Normalize(string username) => username.Trim().ToLowerInvariant();

    public static string? Check(string? username) =>
        username is not null && Pattern().IsMatch(username)
            ? null
            : "The username must be 3-64 characters of a-z, 0-9, '.', '_', '-' or '@'.";

    [GeneratedRegex("^[a-z0-9._@-]{3,64}$")]
    private static partial Regex Pattern();
}
