using System.Diagnostics.Metrics;

namespace OpenNvr.Core.Telemetry;

/// <summary>Metrics of Core's account security (same meter name as <see cref="CoreTelemetry"/>).</summary>
public static class SecurityTelemetry
{
    private static readonly Meter Meter = new(CoreTelemetry.Name);

    public static readonly Histogram<double> UserCheckDuration = Meter.CreateHistogram<double>(
        "opennvr.core.auth.user_check.duration", unit: "ms", description: "Per-request user check (tag cache: hit or miss)");

    public static readonly Counter<long> UserCheckRefusals = Meter.CreateCounter<long>(
        "opennvr.core.auth.user_check.refusals", unit: "{request}", description: "Requests refused because the token's user changed (tag reason)");

    public static readonly Counter<long> ApiTokenUses = Meter.CreateCounter<long>(
        "opennvr.core.auth.api_token.uses", unit: "{request}", description: "Requests presenting an API token (tag result)");

    public static readonly Counter<long> SecondFactor = Meter.CreateCounter<long>(
        "opennvr.core.auth.mfa.verifications", unit: "{code}", description: "Two-factor codes checked (tags kind, result)");

    public static readonly Counter<long> LoginDelays = Meter.CreateCounter<long>(
        "opennvr.core.auth.login.delays", unit: "{delay}", description: "Logins refused because the user name and address must wait");
}
