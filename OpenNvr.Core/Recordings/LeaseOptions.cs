using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Recordings;

/// <summary>The <c>Internal</c> section: the service credential and the recorder lease length.</summary>
public sealed class LeaseOptions
{
    public const string Section = "Internal";

    /// <summary>A lease lapses when its holder has not sent a heartbeat for this long (Recorders beat every 5 s).</summary>
    [Range(1, 604_800)]
    public int LeaseSeconds { get; set; } = 30;
}
