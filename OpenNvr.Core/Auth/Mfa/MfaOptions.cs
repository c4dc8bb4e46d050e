using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Auth.Mfa;

/// <summary>Two-factor login (TOTP, RFC 6238): section <c>Auth:Mfa</c>.</summary>
public sealed class MfaOptions
{
    public const string Section = "Auth:Mfa";

    /// <summary>The issuer shown by authenticator apps beside the account name.</summary>
    [Required, StringLength(64, MinimumLength = 1)]
    public string Issuer { get; set; } = "OpenNVR";

    /// <summary>
    /// Time steps of 30 s accepted before and after the current one, for clocks that drift. 1 (the RFC's
    /// recommendation) accepts a code for about 90 s; a code is single use whatever the window.
    /// </summary>
    [Range(0, 2)]
    public int AllowedDriftSteps { get; set; } = 1;
}
