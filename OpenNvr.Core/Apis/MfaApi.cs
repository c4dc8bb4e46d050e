using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Auth.Mfa;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Apis;

/// <summary>A code of the authenticator app (6 digits) or, to disable, also a recovery code.</summary>
public sealed record MfaCodeRequest([property: Required, StringLength(32, MinimumLength = 6)] string Code);

public sealed record MfaSetupResponse(string Secret, string OtpauthUri, string QrSvg);

/// <summary>The ten recovery codes, shown this once.</summary>
public sealed record MfaEnableResponse(IReadOnlyList<string> RecoveryCodes);

/// <summary>
/// Two-factor enrolment of the caller (TOTP, RFC 6238). Only a login's access token may change it: an API token or a
/// media token must not be able to turn the second factor off. Enabling and disabling rotate the security stamp, so
/// every other session of the user ends; the console logs in again with a code.
/// </summary>
public static class MfaApi
{
    public static IEndpointRouteBuilder MapMfaApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/auth/mfa").WithTags("Auth").RequireAuthorization()
            .WithMetadata(MfaEnrolment.AllowedBeforeEnrolment)
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapPost("/setup", SetupAsync).WithName("setupMfa")
            .WithSummary("Starts enrolment: a new TOTP secret with its otpauth URI and QR code (SVG); enable confirms it");
        api.MapPost("/enable", EnableAsync).WithName("enableMfa")
            .WithSummary("Confirms the secret of setup with a code; returns ten single-use recovery codes, shown once");
        api.MapPost("/disable", DisableAsync).WithName("disableMfa")
            .WithSummary("Turns two-factor login off after a valid code or recovery code");
        return app;
    }

    private static async Task<Results<Ok<MfaSetupResponse>, ForbiddenProblem, ConflictProblem, UnauthorizedProblem>> SetupAsync(
        HttpContext http, NvrDbContext db, TotpService totp, CancellationToken ct)
    {
        if (Refusal(http) is { } refused)
        {
            return refused;
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == http.User.UserId(), ct);
        if (user is null)
        {
            return new UnauthorizedProblem("The user of this token no longer exists.");
        }

        if (user.MfaEnabled)
        {
            return new ConflictProblem("Two-factor login is already enabled; disable it first to enrol a new authenticator.");
        }

        var setup = totp.BeginSetup(user);
        db.Audit(http, "auth.mfa_setup", "user", user.Id);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new MfaSetupResponse(setup.Secret, setup.OtpauthUri, setup.QrSvg));
    }

    private static async Task<Results<Ok<MfaEnableResponse>, BadRequestProblem, ForbiddenProblem, ConflictProblem, UnauthorizedProblem>> EnableAsync(
        MfaCodeRequest request, HttpContext http, NvrDbContext db, TotpService totp, CancellationToken ct)
    {
        if (Refusal(http) is { } refused)
        {
            return refused;
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == http.User.UserId(), ct);
        if (user is null)
        {
            return new UnauthorizedProblem("The user of this token no longer exists.");
        }

        if (user.MfaEnabled)
        {
            return new ConflictProblem("Two-factor login is already enabled.");
        }

        if (user.MfaSecretProtected is null)
        {
            return new ConflictProblem("There is no pending secret: call POST /api/v1/auth/mfa/setup first.");
        }

        var (result, codes) = await totp.EnableAsync(db, user, request.Code, ct);
        if (codes is null)
        {
            return new BadRequestProblem(CodeProblem(result));
        }

        db.Audit(http, "auth.mfa_enabled", "user", user.Id);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new MfaEnableResponse(codes));
    }

    private static async Task<Results<NoContent, BadRequestProblem, ForbiddenProblem, ConflictProblem, UnauthorizedProblem>> DisableAsync(
        MfaCodeRequest request, HttpContext http, NvrDbContext db, TotpService totp, CancellationToken ct)
    {
        if (Refusal(http) is { } refused)
        {
            return refused;
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == http.User.UserId(), ct);
        if (user is null)
        {
            return new UnauthorizedProblem("The user of this token no longer exists.");
        }

        if (!user.MfaEnabled)
        {
            return new ConflictProblem("Two-factor login is not enabled.");
        }

        var result = await totp.DisableAsync(db, user, request.Code, ct);
        if (result is not (SecondFactorResult.Accepted or SecondFactorResult.AcceptedRecoveryCode))
        {
            return new BadRequestProblem(CodeProblem(result));
        }

        db.Audit(http, "auth.mfa_disabled", "user", user.Id);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static ForbiddenProblem? Refusal(HttpContext http) => http.User.ApiTokenId() is not null
        ? new ForbiddenProblem("Two-factor login is changed after a password login, not with an API token.")
        : null;

    private static string CodeProblem(SecondFactorResult result) => result switch
    {
        SecondFactorResult.Replayed => "This code was already used; wait for the next one of your authenticator app.",
        _ => "The code is wrong or expired: check the time of the device that shows it.",
    };
}
