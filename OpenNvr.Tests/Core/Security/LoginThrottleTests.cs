using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Core.Auth.Lockout;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Tests.Core.Security;

/// <summary>Growing delays per user name and client address, against real nvrdb rows.</summary>
public sealed class LoginThrottleTests(SecurityCoreFixture core) : IClassFixture<SecurityCoreFixture>
{
    private async Task<T> WithThrottleAsync<T>(Func<LoginThrottle, NvrDbContext, Task<T>> action)
    {
        await using var scope = core.Factory.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<LoginThrottle>(), scope.ServiceProvider.GetRequiredService<NvrDbContext>());
    }

    [Fact]
    public async Task An_attackers_failures_from_one_address_do_not_delay_the_user_at_another_and_delays_double()
    {
        var user = LoginThrottle.SubjectKey("victim-" + Guid.NewGuid().ToString("N")[..8]);
        var attacker = LoginThrottle.ClientKey(IPAddress.Parse("198.51.100.7"));
        var owner = LoginThrottle.ClientKey(IPAddress.Parse("203.0.113.20"));

        // Four free failures, then 2 s after the fifth (the defaults).
        for (var i = 1; i <= 4; i++)
        {
            var (failures, free) = await WithThrottleAsync((t, db) => t.RecordFailureAsync(db, user, attacker, default));
            Assert.Equal((i, TimeSpan.Zero), (failures, free));
            Assert.Null(await WithThrottleAsync((t, db) => t.WaitAsync(db, user, attacker, default)));
        }

        Assert.Equal((5, TimeSpan.FromSeconds(2)), await WithThrottleAsync((t, db) => t.RecordFailureAsync(db, user, attacker, default)));
        Assert.Equal(TimeSpan.FromSeconds(2), await WithThrottleAsync((t, db) => t.WaitAsync(db, user, attacker, default)));
        // The owner, elsewhere, is not held up at all.
        Assert.Null(await WithThrottleAsync((t, db) => t.WaitAsync(db, user, owner, default)));

        // Each further failure after the wait doubles it, up to the cap (300 s).
        var expected = new[] { 4, 8, 16, 32, 64, 128, 256, 300, 300 };
        foreach (var seconds in expected)
        {
            core.FakeClock.Advance((await WithThrottleAsync((t, db) => t.WaitAsync(db, user, attacker, default)))!.Value);
            Assert.Null(await WithThrottleAsync((t, db) => t.WaitAsync(db, user, attacker, default)));
            var (_, wait) = await WithThrottleAsync((t, db) => t.RecordFailureAsync(db, user, attacker, default));
            Assert.Equal(TimeSpan.FromSeconds(seconds), wait);
        }

        // A success forgets the pair; an hour without failures would have too.
        await WithThrottleAsync(async (t, db) => { await t.ResetAsync(db, user, attacker, default); return 0; });
        Assert.Null(await WithThrottleAsync((t, db) => t.WaitAsync(db, user, attacker, default)));
        Assert.Equal((1, TimeSpan.Zero), await WithThrottleAsync((t, db) => t.RecordFailureAsync(db, user, attacker, default)));
        core.FakeClock.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal((1, TimeSpan.Zero), await WithThrottleAsync((t, db) => t.RecordFailureAsync(db, user, attacker, default)));
    }

    [Fact]
    public async Task Parallel_failures_are_all_counted()
    {
        var user = LoginThrottle.SubjectKey("parallel-" + Guid.NewGuid().ToString("N")[..8]);
        var client = LoginThrottle.ClientKey(IPAddress.Parse("192.0.2.44"));
        var counts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => WithThrottleAsync((t, db) => t.RecordFailureAsync(db, user, client, default))));
        Assert.Equal(Enumerable.Range(1, 10), counts.Select(c => c.Failures).Order());
    }

    [Fact]
    public void Addresses_are_keyed_by_ipv4_address_and_ipv6_64_network()
    {
        Assert.Equal("192.0.2.1", LoginThrottle.ClientKey(IPAddress.Parse("192.0.2.1")));
        Assert.Equal("192.0.2.1", LoginThrottle.ClientKey(IPAddress.Parse("::ffff:192.0.2.1")));
        Assert.Equal("2001:db8:1:2::/64", LoginThrottle.ClientKey(IPAddress.Parse("2001:db8:1:2:aaaa:bbbb:cccc:dddd")));
        Assert.Equal(LoginThrottle.ClientKey(IPAddress.Parse("2001:db8:1:2::1")), LoginThrottle.ClientKey(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.NotEqual(LoginThrottle.ClientKey(IPAddress.Parse("2001:db8:1:2::1")), LoginThrottle.ClientKey(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal("unknown", LoginThrottle.ClientKey(null));
        // Names are stored as hashes: the table holds no guessed user names.
        Assert.Equal(64, LoginThrottle.SubjectKey("someone").Length);
        Assert.DoesNotContain("someone", LoginThrottle.SubjectKey("someone"));
    }

    [Fact]
    public void Option_bounds_fail_validation_with_the_key_named()
    {
        var options = new LoginThrottleOptions { FirstDelaySeconds = 60, MaxDelaySeconds = 10 };
        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();
        Assert.Contains(errors, e => e.ErrorMessage!.Contains("Auth:Lockout:MaxDelaySeconds"));
        Assert.Equal(TimeSpan.Zero, new LoginThrottleOptions().DelayAfter(4));
        Assert.Equal(TimeSpan.FromSeconds(300), new LoginThrottleOptions().DelayAfter(1000));
    }
}
