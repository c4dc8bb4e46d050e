using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Auth.Lockout;

/// <summary>
/// Slows down password guessing without handing anyone a way to lock a user out. Failures are counted per user
/// name and client address (IPv6: per /64, which one subscriber usually holds whole), so only the guesser's own
/// address waits, with delays that double after each further failure; the owner logging in from elsewhere is not
/// affected. The name is counted whether or not it exists (as a SHA-256, so the table holds no guessed names), so
/// the answers do not reveal which accounts exist. The counts live in nvrdb so that every Core replica sees them.
/// Per-address volume is bounded separately by the login rate limiter (Auth:LoginPermitsPerMinute).
/// </summary>
public sealed class LoginThrottle(TimeProvider clock, IOptions<LoginThrottleOptions> options)
{
    private const int StaleRowsPerCleanup = 100;
    private readonly LoginThrottleOptions _options = options.Value;

    /// <summary>The key of a (normalised) user name.</summary>
    public static string SubjectKey(string normalizedUsername) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedUsername)));

    /// <summary>The key of a client address: IPv4 as is, IPv6 by its /64 network.</summary>
    public static string ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>How long the pair must still wait before its next attempt is even checked (null: it may try now).</summary>
    public async Task<TimeSpan?> WaitAsync(NvrDbContext db, string subject, string client, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var until = await db.LoginThrottle.AsNoTracking()
            .Where(e => e.Subject == subject && e.Client == client && e.BlockedUntil > now)
            .Select(e => e.BlockedUntil)
            .SingleOrDefaultAsync(ct);
        return until is { } blocked ? blocked - now : null;
    }

    /// <summary>Counts a failure of the pair; returns the wait it now has to observe (zero while it has free attempts).</summary>
    public async Task<(int Failures, TimeSpan Wait)> RecordFailureAsync(NvrDbContext db, string subject, string client, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var resetBefore = now.AddMinutes(-_options.ResetAfterMinutes);
        // One statement, so that parallel guesses cannot race past the count.
        var failures = (await db.Database.SqlQuery<int>($"""
            INSERT INTO login_throttle (subject, client, failures, last_failure_at)
            VALUES ({subject}, {client}, 1, {now})
            ON CONFLICT (subject, client) DO UPDATE SET
                failures = CASE WHEN login_throttle.last_failure_at < {resetBefore} THEN 1 ELSE login_throttle.failures + 1 END,
                last_failure_at = EXCLUDED.last_failure_at
            RETURNING failures AS "Value"
            """).ToListAsync(ct)).Single();

        var wait = _options.DelayAfter(failures);
        if (wait > TimeSpan.Zero)
        {
            var until = now + wait;
            await db.LoginThrottle
                .Where(e => e.Subject == subject && e.Client == client && (e.BlockedUntil == null || e.BlockedUntil < until))
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.BlockedUntil, until), ct);
        }

        // Forget pairs that have been quiet for the reset period, a few at a time, so the table stays small.
        await db.Database.ExecuteSqlAsync($"""
            DELETE FROM login_throttle WHERE ctid IN (
                SELECT ctid FROM login_throttle WHERE last_failure_at < {resetBefore} LIMIT {StaleRowsPerCleanup})
            """, ct);
        return (failures, wait);
    }

    /// <summary>A successful login forgets the pair's failures.</summary>
    public Task ResetAsync(NvrDbContext db, string subject, string client, CancellationToken ct) =>
        db.LoginThrottle.Where(e => e.Subject == subject && e.Client == client).ExecuteDeleteAsync(ct);
}
