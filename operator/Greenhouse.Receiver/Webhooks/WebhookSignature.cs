using System.Buffers;
using System.Security.Cryptography;
using Greenhouse.Receiver.Observability;

namespace Greenhouse.Receiver.Webhooks;

/// <summary>Verifies Greenhouse's <c>Signature: sha256 &lt;hex&gt;</c> header over the raw body bytes.</summary>
public static class WebhookSignature
{
    private const string Algorithm = "sha256 ";

    /// <summary>Which configured secret verified the body, or <see cref="SecretSlotMatch.None"/>.</summary>
    public static SecretSlotMatch Verify(string? header, ReadOnlySpan<byte> body, WebhookSecrets secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (header is null || !header.StartsWith(Algorithm, StringComparison.Ordinal))
        {
            return SecretSlotMatch.None;
        }
        var hex = header.AsSpan(Algorithm.Length).Trim();
        Span<byte> claimed = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (hex.Length != HMACSHA256.HashSizeInBytes * 2
            || Convert.FromHexString(hex, claimed, out _, out var written) != OperationStatus.Done
            || written != claimed.Length)
        {
            return SecretSlotMatch.None;
        }

        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(secrets.Current, body, actual);
        if (CryptographicOperations.FixedTimeEquals(actual, claimed))
        {
            return SecretSlotMatch.Current;
        }
        if (secrets.Previous is { } previous)
        {
            HMACSHA256.HashData(previous, body, actual);
            if (CryptographicOperations.FixedTimeEquals(actual, claimed))
            {
                return SecretSlotMatch.Previous;
            }
        }
        return SecretSlotMatch.None;
    }

    /// <summary>The header value Greenhouse would send for this body and key (used by tests, tools and the bench).</summary>
    public static string Sign(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key) =>
        Algorithm + Convert.ToHexStringLower(HMACSHA256.HashData(key, body));
}
