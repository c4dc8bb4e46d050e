using System.Text.Json;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using OpenNvr.Core.Exports;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Infrastructure;

/// <summary>Core owns nvrdb: users, cameras, the recordings index, events, audit and recorder leases.</summary>
public sealed class NvrDbContext(DbContextOptions<NvrDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    private static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<double[][], string> PointsConverter = new(
        points => JsonSerializer.Serialize(points, (JsonSerializerOptions?)null),
        json => JsonSerializer.Deserialize<double[][]>(json, (JsonSerializerOptions?)null) ?? Array.Empty<double[]>());

    private static readonly ValueComparer<double[][]> PointsComparer = new(
        (a, b) => JsonSerializer.Serialize(a, (JsonSerializerOptions?)null) == JsonSerializer.Serialize(b, (JsonSerializerOptions?)null),
        points => JsonSerializer.Serialize(points, (JsonSerializerOptions?)null).GetHashCode(),
        points => points.Select(point => point.ToArray()).ToArray());

    public DbSet<User> Users => Set<User>();
    public DbSet<CameraGrant> CameraGrants => Set<CameraGrant>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();
    public DbSet<Camera> Cameras => Set<Camera>();
    public DbSet<AiPolicy> AiPolicies => Set<AiPolicy>();
    public DbSet<RecorderNode> Recorders => Set<RecorderNode>();
    public DbSet<RecorderLease> RecorderLeases => Set<RecorderLease>();
    public DbSet<Recording> Recordings => Set<Recording>();
    public DbSet<AiEvent> Events => Set<AiEvent>();
    public DbSet<Zone> Zones => Set<Zone>();
    public DbSet<CountingLine> CountingLines => Set<CountingLine>();
    public DbSet<OccupancyBucket> Occupancy => Set<OccupancyBucket>();
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();
    public DbSet<ClipExport> Exports => Set<ClipExport>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<MfaRecoveryCode> MfaRecoveryCodes => Set<MfaRecoveryCode>();
    public DbSet<LoginThrottleEntry> LoginThrottle => Set<LoginThrottleEntry>();

    /// <summary>The Data Protection key ring, shared by every Core replica so that each can decrypt camera credentials.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>Every camera, deleted ones included: for admins reading a deleted camera's history and for late deliveries.</summary>
    public IQueryable<Camera> CamerasWithDeleted => Cameras.IgnoreQueryFilters();

    /// <summary>
    /// Options of every registration (pooled contexts cannot use OnConfiguring). Events and recordings reference cameras
    /// that the query filter hides once deleted: that is the point (they outlive their camera), so EF's warning about
    /// required relationships to a filtered principal does not apply.
    /// </summary>
    public static void Configure(DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Ignore(CoreEventId.PossibleIncorrectRequiredNavigationWithQueryFilterInteractionWarning));

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new ClipExportConfiguration());
        modelBuilder.Entity<User>(user =>
        {
            user.ToTable("users");
            user.Property(u => u.Username).HasMaxLength(64);
            user.HasIndex(u => u.Username).IsUnique();
            user.Property(u => u.Role).HasMaxLength(16);
            user.Property(u => u.PasswordHash).HasMaxLength(256);
            user.Property(u => u.SecurityStamp).HasMaxLength(64);
            user.Property(u => u.MfaSecretProtected).HasMaxLength(1024);
            user.Ignore(u => u.MfaEnabled);
            user.HasMany(u => u.CameraGrants).WithOne().HasForeignKey(g => g.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<CameraGrant>(grant =>
        {
            grant.ToTable("camera_grants");
            grant.HasKey(g => new { g.UserId, g.CameraId });
            grant.HasOne<Camera>().WithMany().HasForeignKey(g => g.CameraId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<RefreshToken>(token =>
        {
            token.ToTable("refresh_tokens");
            token.HasIndex(t => t.TokenHash).IsUnique();
            token.HasIndex(t => t.FamilyId);
            token.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ApiToken>(token =>
        {
            token.ToTable("api_tokens");
            token.Property(t => t.Name).HasMaxLength(100);
            token.Property(t => t.Role).HasMaxLength(16);
            token.Property(t => t.Prefix).HasMaxLength(16);
            token.HasIndex(t => t.TokenHash).IsUnique();
            token.HasIndex(t => t.UserId);
            token.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<MfaRecoveryCode>(code =>
        {
            code.ToTable("mfa_recovery_codes");
            code.HasIndex(c => new { c.UserId, c.CodeHash }).IsUnique();
            code.HasOne<User>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<LoginThrottleEntry>(entry =>
        {
            entry.ToTable("login_throttle");
            entry.HasKey(e => new { e.Subject, e.Client });
            entry.Property(e => e.Subject).HasMaxLength(64);
            entry.Property(e => e.Client).HasMaxLength(64);
            entry.HasIndex(e => e.LastFailureAt);
        });

        modelBuilder.Entity<AuditEntry>(audit =>
        {
            audit.ToTable("audit_log");
            audit.Property(a => a.Action).HasMaxLength(64);
            audit.Property(a => a.ActorName).HasMaxLength(64);
            audit.Property(a => a.TargetType).HasMaxLength(32);
            audit.Property(a => a.TargetId).HasMaxLength(64);
            audit.Property(a => a.ClientIp).HasMaxLength(64);
            audit.Property(a => a.Details).HasColumnType("jsonb");
            audit.HasIndex(a => a.Action);
        });

        modelBuilder.Entity<Camera>(camera =>
        {
            camera.ToTable("cameras");
            camera.Property(c => c.Name).HasMaxLength(100);
            camera.Property(c => c.StreamUrl).HasMaxLength(2048);
            camera.Property(c => c.SubStreamUrl).HasMaxLength(2048);
            camera.Property(c => c.RecordingState).HasMaxLength(32);
            camera.Property(c => c.RecordingStateReason).HasMaxLength(500);
            camera.HasMany(c => c.AiPolicies).WithOne().HasForeignKey(p => p.CameraId).OnDelete(DeleteBehavior.Cascade);
            // Deleting a camera marks it (DELETE /api/v1/cameras/{id}); deleted cameras are hidden from every query.
            camera.HasQueryFilter(c => c.DeletedAt == null);
        });

        modelBuilder.Entity<AiPolicy>(policy =>
        {
            policy.ToTable("ai_policies");
            policy.Property(p => p.Task).HasMaxLength(64);
            policy.Property(p => p.Roi).HasColumnType("jsonb").HasConversion(
                roi => roi == null ? null : JsonSerializer.Serialize(roi, (JsonSerializerOptions?)null),
                json => json == null ? null : JsonSerializer.Deserialize<double[][]>(json, (JsonSerializerOptions?)null),
                new ValueComparer<double[][]?>(
                    (a, b) => JsonSerializer.Serialize(a, (JsonSerializerOptions?)null) == JsonSerializer.Serialize(b, (JsonSerializerOptions?)null),
                    roi => JsonSerializer.Serialize(roi, (JsonSerializerOptions?)null).GetHashCode(),
                    roi => roi == null ? null : roi.Select(point => point.ToArray()).ToArray()));
        });

        modelBuilder.Entity<RecorderNode>(recorder =>
        {
            recorder.ToTable("recorders");
            recorder.Property(r => r.Id).HasMaxLength(64);
            recorder.Property(r => r.BaseUrl).HasMaxLength(2048);
        });

        modelBuilder.Entity<RecorderLease>(lease =>
        {
            lease.ToTable("recorder_leases");
            lease.HasKey(l => l.CameraId);
            lease.Property(l => l.RecorderId).HasMaxLength(64);
            lease.Property(l => l.HandingTo).HasMaxLength(64);
            lease.HasIndex(l => l.RecorderId);
            lease.HasOne<Camera>().WithOne().HasForeignKey<RecorderLease>(l => l.CameraId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Recording>(recording =>
        {
            recording.ToTable("recordings");
            recording.Property(r => r.Path).HasMaxLength(1024);
            recording.Property(r => r.Codec).HasMaxLength(32);
            // Idempotent registration (outbox retries) and the timeline window query.
            recording.HasIndex(r => new { r.CameraId, r.Path }).IsUnique();
            recording.HasIndex(r => new { r.CameraId, r.StartAt });
            // Restrict: the index outlives its camera (soft delete); removing a camera row with recordings is refused.
            recording.HasOne<Camera>().WithMany().HasForeignKey(r => r.CameraId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<AiEvent>(ev =>
        {
            ev.ToTable("events");
            ev.Property(e => e.Task).HasMaxLength(64);
            ev.Property(e => e.Label).HasMaxLength(128);
            ev.Property(e => e.SnapshotPath).HasMaxLength(1024);
            ev.Property(e => e.TraceId).HasMaxLength(64);
            ev.Property(e => e.Bbox).HasColumnType("jsonb");
            ev.Property(e => e.Payload).HasColumnType("jsonb");
            // Newest first everywhere (keyset on executed_at, id), overall and per filter.
            ev.HasIndex(e => new { e.ExecutedAt, e.Id }).IsDescending(true, true);
            ev.HasIndex(e => new { e.CameraId, e.ExecutedAt, e.Id }).IsDescending(false, true, true);
            ev.HasIndex(e => new { e.Task, e.ExecutedAt, e.Id }).IsDescending(false, true, true);
            ev.HasIndex(e => new { e.Label, e.ExecutedAt, e.Id }).IsDescending(false, true, true);
            ev.Property(e => e.EventType).HasMaxLength(32);
            ev.HasIndex(e => new { e.EventType, e.ExecutedAt, e.Id }).IsDescending(false, true, true);
            // A person's events on a camera (the console lists them per person).
            ev.HasIndex(e => new { e.CameraId, e.TrackId, e.ExecutedAt });
            // Restrict: events are stored permanently (the reference) and outlive their camera (soft delete).
            ev.HasOne<Camera>().WithMany().HasForeignKey(e => e.CameraId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<Zone>(zone =>
        {
            zone.ToTable("zones");
            zone.Property(z => z.Name).HasMaxLength(64);
            zone.Property(z => z.Points).HasColumnType("jsonb").HasConversion(PointsConverter, PointsComparer);
            zone.HasIndex(z => z.CameraId);
            zone.HasOne<Camera>().WithMany().HasForeignKey(z => z.CameraId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<CountingLine>(line =>
        {
            line.ToTable("counting_lines");
            line.Property(l => l.Name).HasMaxLength(64);
            line.Property(l => l.Points).HasColumnType("jsonb").HasConversion(PointsConverter, PointsComparer);
            line.HasIndex(l => l.CameraId);
            line.HasOne<Camera>().WithMany().HasForeignKey(l => l.CameraId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<OccupancyBucket>(bucket =>
        {
            bucket.ToTable("occupancy");
            bucket.HasKey(b => new { b.CameraId, b.StartUnix });
            bucket.Property(b => b.Zones).HasColumnType("jsonb").HasConversion(
                zones => zones == null ? null : JsonSerializer.Serialize(zones, (JsonSerializerOptions?)null),
                json => json == null ? null : JsonSerializer.Deserialize<Dictionary<string, float[]>>(json, (JsonSerializerOptions?)null));
            bucket.Property(b => b.Lines).HasColumnType("jsonb").HasConversion(
                lines => lines == null ? null : JsonSerializer.Serialize(lines, (JsonSerializerOptions?)null),
                json => json == null ? null : JsonSerializer.Deserialize<Dictionary<string, int[]>>(json, (JsonSerializerOptions?)null));
            // Restrict, like events: the series is history that outlives its camera (soft delete).
            bucket.HasOne<Camera>().WithMany().HasForeignKey(b => b.CameraId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
        OnWebhooksCreating(modelBuilder);
    }

    private static void OnWebhooksCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Webhook>(hook =>
        {
            hook.ToTable("webhooks");
            hook.Property(h => h.Url).HasMaxLength(2048);
            hook.Property(h => h.DisabledReason).HasMaxLength(500);
        });

        modelBuilder.Entity<WebhookDelivery>(delivery =>
        {
            delivery.ToTable("webhook_deliveries");
            delivery.Property(d => d.Kind).HasMaxLength(16);
            delivery.Property(d => d.EventType).HasMaxLength(64);
            delivery.Property(d => d.Status).HasMaxLength(16);
            delivery.Property(d => d.Payload).HasColumnType("jsonb");
            delivery.Property(d => d.LastError).HasMaxLength(500);
            // The dispatcher's claim: due rows of the queue only (the log's finished rows are not scanned).
            delivery.HasIndex(d => d.NextAttemptAt).HasFilter("status = 'pending'");
            // A hook's delivery log, newest first.
            delivery.HasIndex(d => new { d.WebhookId, d.Id }).IsDescending(false, true);
            delivery.HasOne<Webhook>().WithMany().HasForeignKey(d => d.WebhookId).OnDelete(DeleteBehavior.Cascade);
            delivery.HasMany(d => d.AttemptLog).WithOne().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<WebhookAttempt>(attempt =>
        {
            attempt.ToTable("webhook_attempts");
            attempt.Property(a => a.Error).HasMaxLength(500);
        });
    }
}
