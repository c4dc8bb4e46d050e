using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>Lets 'dotnet ef migrations add' build the model without a running database.</summary>
internal sealed class DesignTimeInferenceDbContextFactory : IDesignTimeDbContextFactory<InferenceDbContext>
{
    public InferenceDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<InferenceDbContext>().UseNpgsql("Host=localhost;Database=inferencedb").Options);
}
