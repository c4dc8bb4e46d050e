using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Cameras;

/// <summary>
/// <c>Demo:CameraUrl</c> (set by the app host to a looping video) makes a fresh system show something at once: a
/// camera with a <c>person_counting</c> policy, created once. Deleting it sticks: the audit log remembers the seed.
/// </summary>
public sealed class DemoCameraOptions
{
    public const string Section = "Demo";
    public const string SeedAction = "camera.seed_demo";

    public string? CameraUrl { get; set; }

    [Required, StringLength(100)]
    public string CameraName { get; set; } = "Demo (vtest)";

    [Required, RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "must be 1-64 characters of A-Z, a-z, 0-9, '_', '-' or '.'.")]
    public string Task { get; set; } = "person_counting";

    [Range(OpenNvr.Core.Apis.AiPolicyDto.MinIntervalMs, OpenNvr.Core.Apis.AiPolicyDto.MaxIntervalMs)]
    public int IntervalMs { get; set; } = 500;

    [Range(0.0, 1.0)]
    public double MinConfidence { get; set; } = 0.35;
}

internal static class DemoCameraSeeder
{
    public static async Task SeedAsync(NvrDbContext db, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<DemoCameraOptions>>().Value;
        if (string.IsNullOrWhiteSpace(options.CameraUrl) || await db.AuditLog.AnyAsync(a => a.Action == DemoCameraOptions.SeedAction))
        {
            return;
        }

        var allowFiles = services.GetRequiredService<IOptions<CameraOptions>>().Value.AllowFileSources;
        var url = StreamUrl.Parse(options.CameraUrl, allowFiles, "Demo:CameraUrl", out var error)
            ?? throw new InvalidOperationException(error);
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var camera = new Camera
        {
            Name = options.CameraName,
            StreamUrl = url.UrlWithoutCredentials,
            CreatedAt = now,
            UpdatedAt = now,
            AiPolicies = [new AiPolicy { Task = options.Task, IntervalMs = options.IntervalMs, MinConfidence = options.MinConfidence, MotionGating = true }],
        };
        db.Cameras.Add(camera);
        db.AuditLog.Add(new AuditEntry { At = now, Action = DemoCameraOptions.SeedAction, TargetType = "camera", TargetId = options.CameraName });
        await db.SaveChangesAsync();
        CoreLog.DemoCameraSeeded(services.GetRequiredService<ILogger<NvrDbContext>>(), camera.Id, options.CameraName);
    }
}
