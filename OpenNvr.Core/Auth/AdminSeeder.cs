using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Auth;

/// <summary>Creates the first admin from Auth:AdminUsername / Auth:AdminPassword when the users table is empty.</summary>
internal static class AdminSeeder
{
    public static async Task SeedAsync(NvrDbContext db, IServiceProvider services)
    {
        var logger = services.GetRequiredService<ILogger<NvrDbContext>>();
        if (await db.Users.AnyAsync())
        {
            return;
        }

        var options = services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (string.IsNullOrEmpty(options.AdminPassword))
        {
            CoreLog.AdminPasswordMissing(logger);
            return;
        }

        var username = UsernamePolicy.Normalize(options.AdminUsername);
        if (UsernamePolicy.Check(username) is { } usernameProblem)
        {
            throw new InvalidOperationException($"Auth:AdminUsername is not acceptable: {usernameProblem}");
        }

        if (PasswordPolicy.Check(options.AdminPassword) is { } passwordProblem)
        {
            throw new InvalidOperationException($"Auth:AdminPassword is not acceptable: {passwordProblem}");
        }

        var clock = services.GetRequiredService<TimeProvider>();
        var admin = new User { Username = username, Role = Roles.Admin, PasswordHash = "", CreatedAt = clock.GetUtcNow() };
        admin.PasswordHash = services.GetRequiredService<IPasswordHasher<User>>().HashPassword(admin, options.AdminPassword);
        db.Users.Add(admin);
        db.AuditLog.Add(new AuditEntry { At = clock.GetUtcNow(), Action = "user.seed_admin", TargetType = "user", TargetId = username });
        try
        {
            await db.SaveChangesAsync();
            CoreLog.AdminSeeded(logger, username);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Another Core replica seeded the same admin at the same moment.
        }
    }
}
