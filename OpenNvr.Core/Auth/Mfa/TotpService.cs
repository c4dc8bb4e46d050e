using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;
using OtpNet;
using QRCoder;

namespace OpenNvr.Core.Auth.Mfa;

/// <summary>What an authenticator app needs to enrol: the secret, as text and as an <c>otpauth://</c> QR code.</summary>
public sealed record MfaSetup(string Secret, string OtpauthUri, string QrSvg);

public enum SecondFactorResult
{
    Accepted,
    AcceptedRecoveryCode,
    Invalid,
    Replayed,
    NotEnrolled,
}

/// <summary>
/// TOTP two-factor login (RFC 6238: SHA-1, 6 digits, 30 s; what every authenticator app speaks), with Otp.NET.
/// The secret is stored encrypted with Data Protection (the key ring every Core replica shares). A code is
/// accepted once: the time step of the last accepted code is remembered per user and only a later step passes,
/// set atomically so that two requests racing with one code cannot both win. Ten single-use recovery codes
/// (50 random bits each, stored as keyed hashes) stand in for a lost phone.
/// </summary>
public sealed class TotpService(IDataProtectionProvider dataProtection, SecretHasher hasher, TimeProvider clock, IOptions<MfaOptions> options)
{
    public const int RecoveryCodeCount = 10;
    private const int SecretBytes = 20; // 160 bits, RFC 4226's recommendation for HMAC-SHA1
    private const string RecoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"; // no 0/o, 1/l/i

    private readonly IDataProtector _protector = dataProtection.CreateProtector("OpenNvr.Core.MfaSecrets.v1");
    private readonly MfaOptions _options = options.Value;

    /// <summary>
    /// A new pending secret for <paramref name="user"/> (replacing an earlier pending one); two-factor login starts
    /// only once <see cref="EnableAsync"/> confirmed a code from it. The caller saves the change.
    /// </summary>
    public MfaSetup BeginSetup(User user)
    {
        if (user.MfaEnabled)
        {
            throw new InvalidOperationException("Two-factor login is already enabled; disable it first.");
        }

        var secret = KeyGeneration.GenerateRandomKey(SecretBytes);
        var base32 = Base32Encoding.ToString(secret);
        user.MfaSecretProtected = _protector.Protect(base32);
        user.MfaLastTimeStep = null;
        var uri = new OtpUri(OtpType.Totp, base32, user.Username, _options.Issuer).ToString();
        return new MfaSetup(base32, uri, QrSvg(uri));
    }

    /// <summary>Confirms the pending secret with a code from the app; returns the recovery codes (shown once) or null.</summary>
    public async Task<(SecondFactorResult Result, IReadOnlyList<string>? RecoveryCodes)> EnableAsync(NvrDbContext db, User user, string code, CancellationToken ct)
    {
        if (user.MfaEnabled || user.MfaSecretProtected is null)
        {
            return (SecondFactorResult.NotEnrolled, null);
        }

        var result = await VerifyTotpAsync(db, user, code, ct);
        if (result != SecondFactorResult.Accepted)
        {
            return (result, null);
        }

        user.MfaEnabledAt = clock.GetUtcNow();
        user.RotateSecurityStamp();
        var codes = await ReplaceRecoveryCodesAsync(db, user.Id, ct);
        await db.SaveChangesAsync(ct);
        return (result, codes);
    }

    /// <summary>Turns two-factor login off after a valid code (or recovery code); forgets the secret and the codes.</summary>
    public async Task<SecondFactorResult> DisableAsync(NvrDbContext db, User user, string code, CancellationToken ct)
    {
        var result = await VerifyAsync(db, user, code, ct);
        if (result is not (SecondFactorResult.Accepted or SecondFactorResult.AcceptedRecoveryCode))
        {
            return result;
        }

        await ClearAsync(db, user, ct);
        await db.SaveChangesAsync(ct);
        return result;
    }

    /// <summary>Forgets the secret and the recovery codes (also an administrator's reset for a lost phone). The caller saves the user.</summary>
    public static async Task ClearAsync(NvrDbContext db, User user, CancellationToken ct)
    {
        user.MfaSecretProtected = null;
        user.MfaEnabledAt = null;
        user.MfaLastTimeStep = null;
        user.RotateSecurityStamp();
        await db.MfaRecoveryCodes.Where(c => c.UserId == user.Id).ExecuteDeleteAsync(ct);
    }

    /// <summary>The second factor at login: a 6-digit TOTP code, or one of the recovery codes (used up by this call).</summary>
    public async Task<SecondFactorResult> VerifyAsync(NvrDbContext db, User user, string code, CancellationToken ct)
    {
        if (!user.MfaEnabled)
        {
            return SecondFactorResult.NotEnrolled;
        }

        var trimmed = code.Trim();
        var result = trimmed.Length == 6 && trimmed.All(char.IsAsciiDigit)
            ? await VerifyTotpAsync(db, user, trimmed, ct)
            : await RedeemRecoveryCodeAsync(db, user.Id, trimmed, ct);
        return result;
    }

    private async Task<SecondFactorResult> VerifyTotpAsync(NvrDbContext db, User user, string code, CancellationToken ct)
    {
        var trimmed = code.Trim();
        if (user.MfaSecretProtected is null || trimmed.Length != 6 || !trimmed.All(char.IsAsciiDigit))
        {
            return Count("totp", SecondFactorResult.Invalid);
        }

        var totp = new Totp(Base32Encoding.ToBytes(_protector.Unprotect(user.MfaSecretProtected)));
        var drift = _options.AllowedDriftSteps;
        if (!totp.VerifyTotp(clock.GetUtcNow().UtcDateTime, trimmed, out var step, new VerificationWindow(drift, drift)))
        {
            return Count("totp", SecondFactorResult.Invalid);
        }

        // Accept only a step after the last accepted one, in one statement: concurrent uses of a code race here.
        var claimed = await db.Users
            .Where(u => u.Id == user.Id && (u.MfaLastTimeStep == null || u.MfaLastTimeStep < step))
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.MfaLastTimeStep, step), ct);
        if (claimed == 0)
        {
            return Count("totp", SecondFactorResult.Replayed);
        }

        return Count("totp", SecondFactorResult.Accepted);
    }

    private async Task<SecondFactorResult> RedeemRecoveryCodeAsync(NvrDbContext db, int userId, string code, CancellationToken ct)
    {
        var normalized = NormalizeRecoveryCode(code);
        if (normalized is null)
        {
            return Count("recovery", SecondFactorResult.Invalid);
        }

        var hash = hasher.Hash(normalized);
        var now = clock.GetUtcNow();
        var used = await db.MfaRecoveryCodes
            .Where(c => c.UserId == userId && c.CodeHash == hash && c.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), ct);
        return Count("recovery", used == 1 ? SecondFactorResult.AcceptedRecoveryCode : SecondFactorResult.Invalid);
    }

    private async Task<List<string>> ReplaceRecoveryCodesAsync(NvrDbContext db, int userId, CancellationToken ct)
    {
        await db.MfaRecoveryCodes.Where(c => c.UserId == userId).ExecuteDeleteAsync(ct);
        var now = clock.GetUtcNow();
        var codes = new List<string>(RecoveryCodeCount);
        while (codes.Count < RecoveryCodeCount)
        {
            var raw = RandomNumberGenerator.GetString(RecoveryAlphabet, 10);
            var shown = raw[..5] + "-" + raw[5..];
            if (codes.Contains(shown))
            {
                continue;
            }

            codes.Add(shown);
            db.MfaRecoveryCodes.Add(new MfaRecoveryCode { UserId = userId, CodeHash = hasher.Hash(raw), CreatedAt = now });
        }

        return codes;
    }

    /// <summary>Recovery codes are typed by people: case, spaces and the dash do not matter.</summary>
    private static string? NormalizeRecoveryCode(string code)
    {
        var compact = new string(code.Where(c => c is not ('-' or ' ')).Select(char.ToLowerInvariant).ToArray());
        return compact.Length == 10 && compact.All(c => RecoveryAlphabet.Contains(c)) ? compact : null;
    }

    /// <summary>The otpauth URI as an SVG QR code (scalable, no image library, safe to inline: no script, no links).</summary>
    public static string QrSvg(string otpauthUri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(otpauthUri, QRCodeGenerator.ECCLevel.M);
        using var svg = new SvgQRCode(data);
        return svg.GetGraphic(8, "#000000", "#ffffff", drawQuietZones: true, sizingMode: SvgQRCode.SizingMode.ViewBoxAttribute);
    }

    private static SecondFactorResult Count(string kind, SecondFactorResult result)
    {
        SecurityTelemetry.SecondFactor.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result.ToString().ToLowerInvariant()));
        return result;
    }
}
