using Microsoft.EntityFrameworkCore;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>
/// Inference owns inferencedb: the face registry. Identities hold one or more embeddings (each registration of the
/// same person adds a photo); every change appends a row to <c>face_registry_changes</c>, whose increasing version
/// tells the other replicas what to reload (see <see cref="Faces.FaceRegistrySync"/>).
/// </summary>
public sealed class InferenceDbContext(DbContextOptions<InferenceDbContext> options) : DbContext(options)
{
    public DbSet<FaceIdentity> FaceIdentities => Set<FaceIdentity>();

    public DbSet<FaceEmbedding> FaceEmbeddings => Set<FaceEmbedding>();

    public DbSet<FaceRegistryChange> FaceRegistryChanges => Set<FaceRegistryChange>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<FaceIdentity>(identity =>
        {
            identity.ToTable("face_identities");
            identity.HasKey(i => i.PersonId);
            identity.Property(i => i.PersonId).HasColumnName("person_id").HasMaxLength(FaceIdentity.MaxPersonIdLength);
            identity.Property(i => i.Name).HasColumnName("name").HasMaxLength(FaceIdentity.MaxNameLength);
            identity.Property(i => i.Category).HasColumnName("category").HasMaxLength(32);
            identity.Property(i => i.Metadata).HasColumnName("metadata").HasColumnType("jsonb");
            identity.Property(i => i.CreatedAt).HasColumnName("created_at");
            identity.Property(i => i.UpdatedAt).HasColumnName("updated_at");
            identity.HasIndex(i => i.Category).HasDatabaseName("ix_face_identities_category");
            identity.HasMany(i => i.Embeddings).WithOne().HasForeignKey(e => e.PersonId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<FaceEmbedding>(embedding =>
        {
            embedding.ToTable("face_embeddings");
            embedding.HasKey(e => e.Id);
            embedding.Property(e => e.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            embedding.Property(e => e.PersonId).HasColumnName("person_id").HasMaxLength(FaceIdentity.MaxPersonIdLength);
            embedding.Property(e => e.Model).HasColumnName("model").HasMaxLength(200);
            embedding.Property(e => e.Vector).HasColumnName("vector").HasColumnType("real[]");
            embedding.Property(e => e.SourceUri).HasColumnName("source_uri").HasMaxLength(512);
            embedding.Property(e => e.CreatedAt).HasColumnName("created_at");
            embedding.HasIndex(e => e.PersonId).HasDatabaseName("ix_face_embeddings_person_id");
        });

        modelBuilder.Entity<FaceRegistryChange>(change =>
        {
            change.ToTable("face_registry_changes");
            change.HasKey(c => c.Version);
            change.Property(c => c.Version).HasColumnName("version").UseIdentityAlwaysColumn();
            change.Property(c => c.PersonId).HasColumnName("person_id").HasMaxLength(FaceIdentity.MaxPersonIdLength);
            change.Property(c => c.ChangedAt).HasColumnName("changed_at");
        });
    }
}

/// <summary>A registered person.</summary>
public sealed class FaceIdentity
{
    public const int MaxPersonIdLength = 64;
    public const int MaxNameLength = 200;

    public required string PersonId { get; set; }

    public required string Name { get; set; }

    /// <summary>One of <see cref="Faces.FaceCategories.All"/>.</summary>
    public required string Category { get; set; }

    /// <summary>The client's metadata object as JSON, or null.</summary>
    public string? Metadata { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<FaceEmbedding> Embeddings { get; set; } = [];
}

/// <summary>One photo's embedding of a person, tagged with the model that made it (vectors of different models are not comparable).</summary>
public sealed class FaceEmbedding
{
    public long Id { get; set; }

    public required string PersonId { get; set; }

    /// <summary>Embedder kind and model file, e.g. <c>bundled/fr_feature.onnx</c>.</summary>
    public required string Model { get; set; }

    public required float[] Vector { get; set; }

    public string? SourceUri { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One change of one identity (registered, photo added, replaced or deleted); <see cref="Version"/> only grows.</summary>
public sealed class FaceRegistryChange
{
    public long Version { get; set; }

    public required string PersonId { get; set; }

    public DateTimeOffset ChangedAt { get; set; }
}
