using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Auth.UserCheck;

/// <summary>What a token's validity depends on, as nvrdb has it now.</summary>
public sealed record UserStanding(bool IsActive, string Role, string SecurityStamp, bool MfaEnabled = false);

/// <summary>
/// The standing of each user as read from nvrdb, trusted for at most <see cref="UserCheckOptions.CacheSeconds"/>.
/// A cache hit costs a dictionary lookup, which keeps the per-request check far below a millisecond; a change made
/// through this replica invalidates its entry at once, a change made elsewhere is seen when the entry ages out.
/// </summary>
public sealed class UserStandingCache(TimeProvider clock, IOptions<UserCheckOptions> options)
{
    private static readonly Func<NvrDbContext, int, CancellationToken, Task<UserStanding?>> Load =
        EF.CompileAsyncQuery((NvrDbContext db, int userId, CancellationToken _) => db.Users.AsNoTracking()
            .Where(u => u.Id == userId)
            .Select(u => new UserStanding(u.IsActive, u.Role, u.SecurityStamp, u.MfaEnabledAt != null))
            .SingleOrDefault());

    private readonly ConcurrentDictionary<int, Entry> _entries = new();
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(options.Value.CacheSeconds);

    /// <summary>The user's standing (null: no such user), and whether it came from the cache.</summary>
    public async ValueTask<(UserStanding? Standing, bool FromCache)> GetAsync(int userId, NvrDbContext db, CancellationToken ct)
    {
        if (TryGetFresh(userId, out var cached))
        {
            return (cached, true);
        }

        // Stamped before the read: an entry is never trusted for longer than the lifetime after the data was read.
        var readAt = clock.GetTimestamp();
        var standing = await Load(db, userId, ct);
        if (_lifetime > TimeSpan.Zero)
        {
            _entries[userId] = new Entry(standing, readAt);
        }

        return (standing, false);
    }

    /// <summary>The cached standing while it is fresh (used to mint media tokens right after the request was checked).</summary>
    public bool TryGetFresh(int userId, out UserStanding? standing)
    {
        if (_entries.TryGetValue(userId, out var entry) && clock.GetElapsedTime(entry.ReadAt) < _lifetime)
        {
            standing = entry.Standing;
            return true;
        }

        standing = null;
        return false;
    }

    /// <summary>Forgets a user after a change made through this replica, so that it takes effect here at once.</summary>
    public void Invalidate(int userId) => _entries.TryRemove(userId, out _);

    private sealed record Entry(UserStanding? Standing, long ReadAt);
}
