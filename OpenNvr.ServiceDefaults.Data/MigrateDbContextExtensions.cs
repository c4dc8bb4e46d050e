using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

public static class MigrateDbContextExtensions
{
    private static readonly ActivitySource ActivitySource = new(Extensions.TelemetryPrefix + "Migrations");

    /// <summary>
    /// Applies the context's EF Core migrations before the service starts serving (the host waits for hosted
    /// services' StartAsync). The database is created when missing; EF Core's migration lock makes concurrent
    /// replicas safe.
    /// </summary>
    public static IServiceCollection AddMigration<TContext>(this IServiceCollection services, Func<TContext, IServiceProvider, Task>? seed = null)
        where TContext : DbContext =>
        services.AddHostedService(sp => new MigrationHostedService<TContext>(sp, seed));

    private sealed class MigrationHostedService<TContext>(IServiceProvider services, Func<TContext, IServiceProvider, Task>? seed) : IHostedService
        where TContext : DbContext
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            using var activity = ActivitySource.StartActivity($"migrate {typeof(TContext).Name}");
            using var scope = services.CreateScope();
            var context = scope.ServiceProvider.GetRequiredService<TContext>();
            var logger = scope.ServiceProvider.GetRequiredService<ILogger<TContext>>();
            var started = Stopwatch.GetTimestamp();
            await context.Database.MigrateAsync(cancellationToken);
            if (seed is not null)
            {
                await seed(context, scope.ServiceProvider);
            }

            logger.LogInformation("Database of {Context} migrated in {ElapsedMs} ms", typeof(TContext).Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
