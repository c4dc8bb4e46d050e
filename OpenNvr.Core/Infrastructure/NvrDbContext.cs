using Microsoft.EntityFrameworkCore;

namespace OpenNvr.Core.Infrastructure;

/// <summary>Core owns nvrdb: users, cameras, the recordings index, events, audit and recorder leases.</summary>
public sealed class NvrDbContext(DbContextOptions<NvrDbContext> options) : DbContext(options)
{
    public DbSet<Camera> Cameras => Set<Camera>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Camera>(camera =>
        {
            camera.ToTable("cameras");
            camera.Property(c => c.Id).HasColumnName("id");
            camera.Property(c => c.Name).HasColumnName("name").HasMaxLength(100);
        });
    }
}

public sealed class Camera
{
    public int Id { get; set; }
    public required string Name { get; set; }
}
