using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace OpenNvr.Core.Integrations.Webhooks;

/// <summary>
/// Which URLs a webhook may call. Always: absolute <c>http</c>/<c>https</c> with a host, no user information (a
/// secret in a URL ends up in logs and screenshots; the signature authenticates Core instead), at most 2048
/// characters. With <c>Webhooks:RefusePrivateAddresses</c>, also no host that is or resolves to an internal address
/// (loopback, RFC 1918, CGNAT, link-local, unique local, multicast, unspecified), checked at registration and again
/// at every connect (<see cref="ConnectAsync"/>), so that a DNS answer changed after registration cannot point the
/// hook inside the network.
/// </summary>
public sealed class WebhookUrlPolicy(IOptions<WebhookOptions> options)
{
    public const int MaxUrlLength = 2048;

    /// <summary>Null when the URL is acceptable, else why not (never repeating the URL).</summary>
    public async Task<string?> CheckAsync(string url, CancellationToken ct)
    {
        if (CheckSyntax(url) is { } problem)
        {
            return problem;
        }

        if (!options.Value.RefusePrivateAddresses)
        {
            return null;
        }

        var host = new Uri(url).IdnHost;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        }
        catch (SocketException)
        {
            return $"url: the host '{host}' does not resolve.";
        }

        return addresses.FirstOrDefault(IsInternal) is { } inside
            ? $"url: the host '{host}' is an internal address ({inside}); this server refuses private addresses (Webhooks:RefusePrivateAddresses)."
            : null;
    }

    public static string? CheckSyntax(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength)
        {
            return $"url is required (at most {MaxUrlLength} characters).";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            return "url must be an absolute http:// or https:// URL with a host.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "url must not contain credentials (user:password@); receivers verify the X-OpenNVR-Signature header instead.";
        }

        return url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) ? "url must not contain whitespace or control characters." : null;
    }

    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ||
            address.Equals(IPAddress.Broadcast))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 0 || b[0] == 10 || b[0] == 127 ||
                   b[0] == 100 && b[1] >= 64 && b[1] <= 127 ||   // 100.64.0.0/10 carrier-grade NAT
                   b[0] == 169 && b[1] == 254 ||                 // link-local
                   b[0] == 172 && b[1] >= 16 && b[1] <= 31 ||
                   b[0] == 192 && b[1] == 168 ||
                   b[0] == 192 && b[1] == 0 && b[2] == 0 ||      // IETF protocol assignments
                   b[0] == 198 && (b[1] == 18 || b[1] == 19) ||  // benchmarking
                   b[0] >= 224;                                  // multicast and reserved
        }

        var v6 = address.GetAddressBytes();
        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast ||
               (v6[0] & 0xFE) == 0xFC;                           // fc00::/7 unique local
    }

    /// <summary>
    /// The webhook client's connect step: resolves the host, refuses internal addresses when the option is on, and
    /// connects to the first address that is allowed.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        if (options.Value.RefusePrivateAddresses)
        {
            addresses = addresses.Where(a => !IsInternal(a)).ToArray();
            if (addresses.Length == 0)
            {
                throw new HttpRequestException($"The host '{host}' resolves only to internal addresses, which Webhooks:RefusePrivateAddresses refuses.");
            }
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
