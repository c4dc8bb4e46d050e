using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Options;

namespace OpenNvr.Core.Extensions;

/// <summary>
/// Reverse proxies in front of Core: section <c>ForwardedHeaders</c>. Behind a proxy every client arrives from the
/// proxy's address, so per-address limits (login rate limit, login delays, audit) would lump all clients together.
/// <c>X-Forwarded-For</c>/<c>-Proto</c> are honoured only from the listed proxies and networks; with none listed
/// (the default) they are ignored, because any client can send them.
/// </summary>
public sealed class ProxyOptions : IValidatableObject
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Addresses of trusted proxies, e.g. <c>10.0.0.5</c>.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR form, e.g. <c>10.0.0.0/8</c>.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>Proxies in the chain to unwind (one per trusted hop).</summary>
    [Range(1, 10)]
    public int ForwardLimit { get; set; } = 1;

    public bool Enabled => KnownProxies.Length > 0 || KnownNetworks.Length > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
        {
            yield return new ValidationResult($"{Section}:KnownProxies: '{proxy}' is not an IP address.", [nameof(KnownProxies)]);
        }

        foreach (var network in KnownNetworks.Where(n => !IPNetwork.TryParse(n, out _)))
        {
            yield return new ValidationResult($"{Section}:KnownNetworks: '{network}' is not a network in CIDR form (e.g. 10.0.0.0/8).", [nameof(KnownNetworks)]);
        }
    }

    /// <summary>The middleware's options: only what was configured is trusted (not even loopback by default).</summary>
    public ForwardedHeadersOptions ToMiddlewareOptions()
    {
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = ForwardLimit,
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.Parse(proxy));
        }

        foreach (var network in KnownNetworks)
        {
            options.KnownIPNetworks.Add(IPNetwork.Parse(network));
        }

        return options;
    }
}

/// <summary>Puts the forwarded-headers middleware first in the pipeline, before anything reads the client address.</summary>
internal sealed class ForwardedHeadersStartupFilter(IOptions<ProxyOptions> options) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        if (options.Value.Enabled)
        {
            app.UseForwardedHeaders(options.Value.ToMiddlewareOptions());
        }

        next(app);
    };
}
