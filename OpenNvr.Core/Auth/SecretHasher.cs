using System.Security.Cryptography;
using System.Text;

namespace OpenNvr.Core.Auth;

/// <summary>
/// HMAC-SHA256 of random secrets we issue (API tokens, MFA recovery codes) for storage and lookup.
/// <para>
/// A fast keyed hash is the right tool here, unlike for passwords: these secrets are drawn at random with 160-256
/// bits (recovery codes 50 bits, behind the login throttle), so there is no dictionary to slow down and a slow
/// KDF would only add milliseconds to every API request. A deterministic hash can be looked up by a unique index
/// (a salted slow hash cannot), and the key (derived with HKDF from <c>Auth:JwtSigningKey</c>, so every replica has
/// it and nothing more must be configured) means a copy of nvrdb alone cannot even test a guess. Rotating the signing
/// key therefore invalidates API tokens and recovery codes, as it does every access token.
/// </para>
/// </summary>
public sealed class SecretHasher(JwtSigningKey signingKey)
{
    private readonly byte[] _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, signingKey.Key, 32, salt: [], info: "OpenNvr.Core secret hash v1"u8.ToArray());

    public byte[] Hash(string secret) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(secret));
}
