using System.Security.Cryptography;

namespace Greenhouse.Contracts;

/// <summary>
/// A short, one-way fingerprint of a secret value (first 16 hex digits of its SHA-256), so the
/// operator and the receivers can agree on which secret is loaded without either revealing it.
/// </summary>
public static class SecretFingerprint
{
    public static string Of(ReadOnlySpan<byte> secret)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(secret, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }
}
