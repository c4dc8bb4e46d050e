using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Integrations.Webhooks;

/// <summary>
/// The <c>Webhooks</c> section. A delivery is tried in rounds: each round makes up to <see cref="AttemptsPerRound"/>
/// HTTP attempts a few seconds apart (Polly, exponential with jitter, honouring <c>Retry-After</c>); a failed round
/// is scheduled again in the durable queue after <see cref="RoundDelaySeconds"/> × 2^(round−1) (jittered), up to
/// <see cref="Rounds"/> rounds. A hook is disabled after <see cref="DisableAfterFailures"/> failed rounds in a row
/// (over all its deliveries), or when a delivery fails for good.
/// </summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Refuse URLs whose host is (or resolves to) a loopback, private, link-local or otherwise internal address. Checked again at every connect.</summary>
    public bool RefusePrivateAddresses { get; set; }

    [Range(1, 1000)]
    public int MaxWebhooks { get; set; } = 100;

    [Range(1, 10)]
    public int AttemptsPerRound { get; set; } = 3;

    /// <summary>First retry delay within a round (then doubled, with jitter).</summary>
    [Range(1, 60_000)]
    public int RetryDelayMs { get; set; } = 2000;

    /// <summary>A <c>Retry-After</c> up to this is waited within the round; a longer one ends the round and schedules the next accordingly.</summary>
    [Range(0, 3600)]
    public int MaxRetryAfterSeconds { get; set; } = 30;

    [Range(1, 50)]
    public int Rounds { get; set; } = 6;

    [Range(0.01, 86_400)]
    public double RoundDelaySeconds { get; set; } = 30;

    [Range(1, 10_000)]
    public int DisableAfterFailures { get; set; } = 10;

    /// <summary>Timeout of one HTTP attempt.</summary>
    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>How often the dispatcher looks for due deliveries when nothing wakes it.</summary>
    [Range(10, 60_000)]
    public int PollIntervalMs { get; set; } = 1000;

    [Range(1, 1000)]
    public int BatchSize { get; set; } = 50;

    /// <summary>Deliveries sent at the same time by one Core.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>Events waiting to be queued in nvrdb; beyond this, events are not delivered (counted and logged), ingest never waits.</summary>
    [Range(1, 1_000_000)]
    public int EnqueueCapacity { get; set; } = 10_000;

    /// <summary>Finished deliveries are kept this long as the delivery log.</summary>
    [Range(1, 3650)]
    public int LogRetentionDays { get; set; } = 7;
}
