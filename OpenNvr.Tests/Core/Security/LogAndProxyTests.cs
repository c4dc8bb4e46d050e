using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Extensions;

namespace OpenNvr.Tests.Core.Security;

public sealed class LogValuesTests
{
    [Fact]
    public void Line_breaks_and_control_characters_cannot_forge_log_lines()
    {
        var forged = "bob\r\n2026-11-30 info: Login of admin succeeded\u001b[2J\u2028";
        var safe = LogValues.Sanitize(forged);
        Assert.DoesNotContain('\n', safe);
        Assert.DoesNotContain('\r', safe);
        Assert.DoesNotContain('\u001b', safe);
        Assert.DoesNotContain('\u2028', safe);
        Assert.Equal("bob\\u000d\\u000a2026-11-30 info: Login of admin succeeded\\u001b[2J\\u2028", safe);

        Assert.Equal("plain.name@example", LogValues.Sanitize("plain.name@example"));
        Assert.Equal("émoji 📷 ok", LogValues.Sanitize("émoji 📷 ok"));
        Assert.Equal("lone \\ud800!", LogValues.Sanitize("lone \ud800!"));
        Assert.Equal("", LogValues.Sanitize(null));
        var cut = LogValues.Sanitize(new string('x', 5000));
        Assert.StartsWith(new string('x', 200) + "…(5000 chars)", cut);
        Assert.True(cut.Length < 220);
    }
}

public sealed class ProxyOptionsTests
{
    private static async Task<string?> ClientAfterAsync(ProxyOptions options, string remote, string forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        var middleware = new ForwardedHeadersMiddleware(_ => Task.CompletedTask, NullLoggerFactory.Instance, Options.Create(options.ToMiddlewareOptions()));
        await middleware.Invoke(context);
        return context.Connection.RemoteIpAddress?.ToString();
    }

    [Fact]
    public async Task Forwarded_for_is_honoured_only_from_configured_proxies_and_networks()
    {
        var options = new ProxyOptions { KnownProxies = ["10.0.0.5"], KnownNetworks = ["172.16.0.0/12"] };
        Assert.True(options.Enabled);
        Assert.Equal("203.0.113.7", await ClientAfterAsync(options, "10.0.0.5", "203.0.113.7"));
        Assert.Equal("203.0.113.8", await ClientAfterAsync(options, "172.20.1.1", "203.0.113.8"));
        // Anyone else (loopback included: nothing is trusted unless configured) cannot choose their address.
        Assert.Equal("10.0.0.6", await ClientAfterAsync(options, "10.0.0.6", "203.0.113.7"));
        Assert.Equal("127.0.0.1", await ClientAfterAsync(options, "127.0.0.1", "203.0.113.7"));
        // One trusted hop: a client cannot smuggle an address in front of the one the proxy saw.
        Assert.Equal("203.0.113.9", await ClientAfterAsync(options, "10.0.0.5", "1.2.3.4, 203.0.113.9"));
        Assert.False(new ProxyOptions().Enabled);
    }

    [Fact]
    public void Bad_proxy_settings_fail_validation_naming_the_key()
    {
        var options = new ProxyOptions { KnownProxies = ["not-an-ip"], KnownNetworks = ["10.0.0.0/99", "10.1.0.0/16"] };
        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e!.Contains("ForwardedHeaders:KnownProxies") && e.Contains("not-an-ip"));
        Assert.Contains(errors, e => e!.Contains("ForwardedHeaders:KnownNetworks") && e.Contains("10.0.0.0/99"));
    }
}
