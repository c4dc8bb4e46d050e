using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace OpenNvr.Core.Cameras;

/// <summary>
/// Camera credentials at rest: ASP.NET Data Protection with the key ring in nvrdb, so every Core replica decrypts
/// what any other encrypted.
/// </summary>
public sealed class CameraCredentialProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("OpenNvr.Core.CameraCredentials.v1");

    public string? Protect(StreamCredentials? credentials) =>
        credentials is null ? null : _protector.Protect(JsonSerializer.Serialize(credentials));

    public StreamCredentials? Unprotect(string? protectedCredentials) =>
        protectedCredentials is null ? null : JsonSerializer.Deserialize<StreamCredentials>(_protector.Unprotect(protectedCredentials));
}
