using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace OpenNvr.Tests.Core;

/// <summary>
/// Core whose clock is a <see cref="FakeTimeProvider"/> (starting at the real time, so that PostgreSQL's own clock and
/// the tokens agree at first): leases, token lifetimes and lockouts are tested by moving the clock, never by waiting.
/// The clock only moves when a test advances it; tests of one class share it, so each works from "now".
/// </summary>
public class FakeClockCoreFixture : CoreFixture
{
    // Whole seconds: PostgreSQL keeps microseconds, so a sub-microsecond start would blur exact expiry boundaries.
    public FakeTimeProvider FakeClock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    public override TimeProvider Clock => FakeClock;

    protected override void Configure(IWebHostBuilder host) =>
        host.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(FakeClock));
}
