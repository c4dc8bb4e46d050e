using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace OpenNvr.Core.Infrastructure;

/// <summary>Lets 'dotnet ef migrations add' build the model without a running database.</summary>
internal sealed class DesignTimeNvrDbContextFactory : IDesignTimeDbContextFactory<NvrDbContext>
{
    public NvrDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<NvrDbContext>().UseNpgsql("Host=localhost;Database=nvrdb").UseSnakeCaseNamingConvention().Options);
}
