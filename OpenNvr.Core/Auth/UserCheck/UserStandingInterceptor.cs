using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Auth.UserCheck;

/// <summary>
/// Keeps tokens honest whatever code changes a user: saving a new password, role or active flag rotates the
/// user's security stamp (so tokens issued before no longer pass the user check), and after the save this
/// replica forgets what it cached about the user, so the change takes effect here at once (elsewhere within the
/// cache's 5 s). Bulk updates (<c>ExecuteUpdate</c>) bypass it and must rotate the stamp themselves.
/// </summary>
internal sealed class UserStandingInterceptor(UserStandingCache cache) : SaveChangesInterceptor
{
    private static readonly string[] StandingProperties = [nameof(User.Role), nameof(User.IsActive), nameof(User.PasswordHash)];

    // The interceptor is shared by every context (and pooled contexts are reused): changed users are kept per context.
    private readonly ConditionalWeakTable<DbContext, HashSet<int>> _changed = new();

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Forget(eventData.Context);
        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            _changed.Remove(context);
        }
    }

    private void Collect(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        foreach (var entry in context.ChangeTracker.Entries<User>())
        {
            if (entry.State == EntityState.Modified)
            {
                var stamp = entry.Property(u => u.SecurityStamp);
                if (!stamp.IsModified && StandingProperties.Any(p => entry.Property(p) is { IsModified: true } changed && !Equals(changed.OriginalValue, changed.CurrentValue)))
                {
                    stamp.CurrentValue = User.NewSecurityStamp();
                }

                if (stamp.IsModified)
                {
                    _changed.GetOrCreateValue(context).Add(entry.Entity.Id);
                }
            }
            else if (entry.State == EntityState.Deleted)
            {
                _changed.GetOrCreateValue(context).Add(entry.Entity.Id);
            }
        }
    }

    private void Forget(DbContext? context)
    {
        if (context is not null && _changed.TryGetValue(context, out var users))
        {
            _changed.Remove(context);
            foreach (var id in users)
            {
                cache.Invalidate(id);
            }
        }
    }
}
