using Microsoft.EntityFrameworkCore;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>Inference owns inferencedb: the face registry (identities and their embeddings).</summary>
public sealed class InferenceDbContext(DbContextOptions<InferenceDbContext> options) : DbContext(options)
{
    public DbSet<FaceIdentity> FaceIdentities => Set<FaceIdentity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<FaceIdentity>(identity =>
        {
            identity.ToTable("face_identities");
            identity.HasKey(i => i.PersonId);
            identity.Property(i => i.PersonId).HasColumnName("person_id").HasMaxLength(64);
            identity.Property(i => i.Name).HasColumnName("name").HasMaxLength(200);
        });
    }
}

public sealed class FaceIdentity
{
    public required string PersonId { get; set; }
    public required string Name { get; set; }
}
