using OpenNvr.Inference.Infrastructure;

namespace OpenNvr.Inference.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<InferenceDbContext>("inferencedb");
        builder.Services.AddMigration<InferenceDbContext>();
    }
}
