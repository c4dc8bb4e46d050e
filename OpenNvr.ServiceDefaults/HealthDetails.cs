using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>A service's own rule for who else may read <c>/health</c> details (Core: admins).</summary>
public interface IHealthDetailsGate
{
    bool Allows(HttpContext context);
}

/// <summary>
/// Who may read the per-check details of <c>/health</c> (folders, models, dependency errors): callers on the internal
/// network (loopback, private and link-local addresses, in-process test hosts) and whoever the service's
/// <see cref="IHealthDetailsGate"/> admits. Everyone else gets the status alone, which is all a probe needs.
/// </summary>
public static class HealthDetails
{
    public static bool MayRead(HttpContext context) =>
        IsInternal(context.Connection.RemoteIpAddress) || context.RequestServices.GetService<IHealthDetailsGate>()?.Allows(context) == true;

    public static bool IsInternal(IPAddress? address)
    {
        if (address is null)
        {
            return true; // in-process (TestServer): no network at all
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6UniqueLocal || address.IsIPv6SiteLocal;
        }

        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 172 && b[1] is >= 16 and <= 31 || b[0] == 192 && b[1] == 168 || b[0] == 169 && b[1] == 254;
    }
}
