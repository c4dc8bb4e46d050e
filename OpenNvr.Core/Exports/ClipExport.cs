using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Exports;

/// <summary>Status names on the wire (<c>status</c>).</summary>
public static class ExportStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>One clip export: a requested range of a camera's recordings made into one MP4 under <c>Exports:Root</c>.</summary>
public sealed class ClipExport
{
    public long Id { get; set; }
    public int CameraId { get; set; }
    public int? CreatedByUserId { get; set; }
    public string? Name { get; set; }
    public DateTimeOffset StartAt { get; set; }
    public DateTimeOffset EndAt { get; set; }

    /// <summary>Where the file starts: the keyframe at or before <see cref="StartAt"/>.</summary>
    public DateTimeOffset? ClipStartAt { get; set; }

    public required string Status { get; set; }
    public double Progress { get; set; }
    public long? SizeBytes { get; set; }
    public double? DurationS { get; set; }
    public string? FileName { get; set; }
    public string? Error { get; set; }

    /// <summary>Parts of the range with no recording: <c>[{"start_unix","end_unix"}]</c>.</summary>
    public JsonDocument? Gaps { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>Table <c>exports</c>; an export goes with its camera.</summary>
public sealed class ClipExportConfiguration : IEntityTypeConfiguration<ClipExport>
{
    public void Configure(EntityTypeBuilder<ClipExport> export)
    {
        export.ToTable("exports");
        export.Property(e => e.Name).HasMaxLength(100);
        export.Property(e => e.Status).HasMaxLength(16);
        export.Property(e => e.FileName).HasMaxLength(128);
        export.Property(e => e.Error).HasMaxLength(500);
        export.HasIndex(e => new { e.CameraId, e.StartAt });
        export.HasIndex(e => e.CreatedAt);
        export.HasOne<Camera>().WithMany().HasForeignKey(e => e.CameraId).OnDelete(DeleteBehavior.Cascade);
    }
}
