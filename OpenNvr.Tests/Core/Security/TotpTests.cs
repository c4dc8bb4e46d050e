using System.Net;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Core.Auth.Mfa;
using OpenNvr.Core.Infrastructure;
using OtpNet;

namespace OpenNvr.Tests.Core.Security;

/// <summary>TOTP (RFC 6238) enrolment, codes computed here as an authenticator app would, replay, recovery codes.</summary>
public sealed class TotpTests(SecurityCoreFixture core) : IClassFixture<SecurityCoreFixture>
{
    private string CodeAt(string secret, TimeSpan offset = default) =>
        new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp((core.Clock.GetUtcNow() + offset).UtcDateTime);

    private async Task<T> WithUserAsync<T>(int userId, Func<TotpService, NvrDbContext, OpenNvr.Core.Model.User, Task<T>> action)
    {
        await using var scope = core.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
        var user = await db.Users.SingleAsync(u => u.Id == userId);
        return await action(scope.ServiceProvider.GetRequiredService<TotpService>(), db, user);
    }

    [Fact]
    public async Task Setup_enable_with_a_computed_code_then_codes_are_single_use_and_recovery_codes_work_once()
    {
        var (id, client) = await core.CreateUserAsync("operator");
        var name = await core.ScalarAsync<string>("SELECT username FROM users WHERE id = $1", id);
        var setup = await WithUserAsync(id, async (totp, db, user) =>
        {
            var s = totp.BeginSetup(user);
            await db.SaveChangesAsync();
            return s;
        });

        // What an authenticator app scans: RFC 6238 defaults, 160-bit secret, issuer and account in the label.
        Assert.Equal(32, setup.Secret.Length);
        Assert.StartsWith($"otpauth://totp/OpenNVR:{name}?secret={setup.Secret}", setup.OtpauthUri);
        Assert.Contains("issuer=OpenNVR", setup.OtpauthUri);
        var svg = XDocument.Parse(setup.QrSvg).Root!;
        Assert.Equal("svg", svg.Name.LocalName);
        Assert.DoesNotContain("script", setup.QrSvg, StringComparison.OrdinalIgnoreCase);
        // Stored encrypted, never as the secret itself; not enabled before a code confirmed it.
        var stored = await core.ScalarAsync<string>("SELECT mfa_secret_protected FROM users WHERE id = $1", id);
        Assert.DoesNotContain(setup.Secret, stored);
        Assert.True(await core.ScalarAsync<bool>("SELECT mfa_enabled_at IS NULL FROM users WHERE id = $1", id));

        // A wrong code does not enable; the right one does and yields 10 distinct recovery codes, stored hashed.
        var (wrong, none) = await WithUserAsync(id, (totp, db, user) => totp.EnableAsync(db, user, "000000" == CodeAt(setup.Secret) ? "111111" : "000000", default));
        Assert.Equal(SecondFactorResult.Invalid, wrong);
        Assert.Null(none);
        var code = CodeAt(setup.Secret);
        var (enabled, recovery) = await WithUserAsync(id, (totp, db, user) => totp.EnableAsync(db, user, code, default));
        Assert.Equal(SecondFactorResult.Accepted, enabled);
        Assert.Equal(10, recovery!.Distinct().Count());
        Assert.All(recovery!, r => Assert.Matches("^[a-z2-9]{5}-[a-z2-9]{5}$", r));
        Assert.Equal(10L, await core.ScalarAsync<long>("SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1 AND length(code_hash) = 32", id));

        // Enrolling changed the security stamp: the session from before ends.
        core.FakeClock.Advance(TimeSpan.FromSeconds(5));
        await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/auth/me"), HttpStatusCode.Unauthorized);

        // The code that enabled cannot be used again, nor can any code of the same or an earlier step.
        Assert.Equal(SecondFactorResult.Replayed, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, code, default)));
        Assert.Equal(SecondFactorResult.Replayed, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, CodeAt(setup.Secret, TimeSpan.FromSeconds(-30)), default)));

        // The next step's code passes once; a clock one step ahead (drift) is accepted, two steps are not.
        core.FakeClock.Advance(TimeSpan.FromSeconds(30));
        var next = CodeAt(setup.Secret);
        Assert.Equal(SecondFactorResult.Accepted, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, next, default)));
        Assert.Equal(SecondFactorResult.Replayed, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, next, default)));
        Assert.Equal(SecondFactorResult.Accepted, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, CodeAt(setup.Secret, TimeSpan.FromSeconds(30)), default)));
        var farAhead = CodeAt(setup.Secret, TimeSpan.FromSeconds(120));
        Assert.NotEqual(SecondFactorResult.Accepted, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, farAhead, default)));

        // A recovery code works once, typed in any case and without its dash; a made-up one never.
        var typed = recovery![3].ToUpperInvariant().Replace("-", " ");
        Assert.Equal(SecondFactorResult.AcceptedRecoveryCode, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, typed, default)));
        Assert.Equal(SecondFactorResult.Invalid, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, recovery[3], default)));
        Assert.Equal(SecondFactorResult.Invalid, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, "abcde-fghjk", default)));
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL", id));

        // Disabling needs a valid code and forgets the secret and the recovery codes.
        Assert.Equal(SecondFactorResult.Invalid, await WithUserAsync(id, (totp, db, user) => totp.DisableAsync(db, user, "12345", default)));
        core.FakeClock.Advance(TimeSpan.FromSeconds(90));
        var disableCode = CodeAt(setup.Secret);
        Assert.Equal(SecondFactorResult.Accepted, await WithUserAsync(id, (totp, db, user) => totp.DisableAsync(db, user, disableCode, default)));
        Assert.True(await core.ScalarAsync<bool>("SELECT mfa_secret_protected IS NULL AND mfa_enabled_at IS NULL FROM users WHERE id = $1", id));
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1", id));
        Assert.Equal(SecondFactorResult.NotEnrolled, await WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, disableCode, default)));
    }

    [Fact]
    public async Task Two_requests_racing_with_one_code_cannot_both_win()
    {
        var (id, _) = await core.CreateUserAsync("viewer");
        var secret = await WithUserAsync(id, async (totp, db, user) =>
        {
            var s = totp.BeginSetup(user);
            await db.SaveChangesAsync();
            return s.Secret;
        });
        var (enabled, _) = await WithUserAsync(id, (totp, db, user) => totp.EnableAsync(db, user, CodeAt(secret), default));
        Assert.Equal(SecondFactorResult.Accepted, enabled);
        core.FakeClock.Advance(TimeSpan.FromSeconds(30));

        var code = CodeAt(secret);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => WithUserAsync(id, (totp, db, user) => totp.VerifyAsync(db, user, code, default))));
        Assert.Equal(1, results.Count(r => r == SecondFactorResult.Accepted));
        Assert.Equal(7, results.Count(r => r == SecondFactorResult.Replayed));
    }
}
