using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<NvrDbContext>("nvrdb");
        builder.Services.AddMigration<NvrDbContext>();
    }
}
