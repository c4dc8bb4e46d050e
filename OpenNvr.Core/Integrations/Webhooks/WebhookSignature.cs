using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace OpenNvr.Core.Integrations.Webhooks;

/// <summary>
/// <c>X-OpenNVR-Signature: sha256=&lt;hex HMAC-SHA256 of the body with the hook's secret&gt;</c>. The body carries the
/// same <c>timestamp</c> as the <c>X-OpenNVR-Timestamp</c> header, so the signature covers it: a receiver that checks
/// the signature and then refuses timestamps older than a few minutes (and remembers <c>delivery_id</c>s it has seen)
/// is safe from replays. docs/integrations.md shows how to verify.
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "X-OpenNVR-Signature";
    public const string TimestampHeader = "X-OpenNVR-Timestamp";
    public const string DeliveryHeader = "X-OpenNVR-Delivery";
    public const string EventHeader = "X-OpenNVR-Event";
    public const string Prefix = "sha256=";

    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Constant-time check of a received signature header against the body (what a receiver does).</summary>
    public static bool Verify(ReadOnlySpan<byte> body, string secret, string? header)
    {
        if (header is null || !header.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(body, secret));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(header.ToLowerInvariant()));
    }
}

/// <summary>Webhook secrets at rest: Data Protection with the key ring in nvrdb, so every Core replica can sign.</summary>
public sealed class WebhookSecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("OpenNvr.Core.WebhookSecrets.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
