using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Auth;

/// <summary>The <c>Auth</c> configuration section (keys as in API.md plus Core's own tuning knobs).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    [Required, RegularExpression("^[A-Za-z0-9._@-]{3,64}$", ErrorMessage = "must be 3-64 characters of letters, digits, '.', '_', '-' or '@'.")]
    public string AdminUsername { get; set; } = "admin";
    public string? AdminPassword { get; set; }
    public string? JwtSigningKey { get; set; }
    [Required, StringLength(256)]
    public string Issuer { get; set; } = "opennvr-core";

    [Required, StringLength(256)]
    public string Audience { get; set; } = "opennvr";

    /// <summary>Access token lifetime; the issue asks for 15-30 minutes.</summary>
    [Range(1, 1440)]
    public int AccessTokenMinutes { get; set; } = 15;

    [Range(1, 3650)]
    public int RefreshTokenDays { get; set; } = 14;

    /// <summary>Absolute lifetime of a login: refreshing never extends a session past this many days after the password was given.</summary>
    [Range(1, 3650)]
    public int RefreshFamilyDays { get; set; } = 30;

    /// <summary>Lifetime of the signed query tokens that HLS players and &lt;img&gt; tags send instead of a header.</summary>
    [Range(1, 1440)]
    public int MediaTokenMinutes { get; set; } = 10;

    [Range(1, 1000)]
    public int LockoutThreshold { get; set; } = 5;

    [Range(1, 1440)]
    public int LockoutMinutes { get; set; } = 5;

    /// <summary>Login and refresh attempts allowed per client IP address per minute.</summary>
    [Range(1, 1_000_000)]
    public int LoginPermitsPerMinute { get; set; } = 20;

    /// <summary>Admins must enrol two-factor login before any other route answers them (<c>Auth:RequireMfaForAdmins</c>).</summary>
    public bool RequireMfaForAdmins { get; set; }

    public string MediaAudience => Audience + ":media";
}

/// <summary>The HS256 key that signs access and media tokens, resolved once at start-up.</summary>
public sealed class JwtSigningKey(byte[] key, bool ephemeral)
{
    /// <summary>HS256 wants at least 256 bits of key.</summary>
    public const int MinimumBytes = 32;

    public byte[] Key { get; } = key;
    public bool IsEphemeral { get; } = ephemeral;

    public static JwtSigningKey Resolve(string? configured, bool isDevelopment)
    {
        if (string.IsNullOrEmpty(configured))
        {
            if (!isDevelopment)
            {
                throw new InvalidOperationException(
                    "Auth:JwtSigningKey is not set. Core refuses to start outside Development without it: set Auth__JwtSigningKey " +
                    $"to a random secret of at least {MinimumBytes} bytes (the app host passes its jwt-signing-key parameter).");
            }

            return new JwtSigningKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64), ephemeral: true);
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(configured);
        if (bytes.Length < MinimumBytes)
        {
            throw new InvalidOperationException(
                $"Auth:JwtSigningKey is {bytes.Length} bytes long; HS256 needs at least {MinimumBytes}. Use a longer random secret.");
        }

        return new JwtSigningKey(bytes, ephemeral: false);
    }
}
