using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Greenhouse.Receiver.Webhooks;

/// <summary>
/// The dedupe key of a delivery. The <c>Greenhouse-Event-ID</c> header is not covered by the
/// signature, so anyone can put anything in it: it is kept only when it is 1-200 characters of
/// <c>[A-Za-z0-9._:-]</c> (Greenhouse's ids are); any other value is replaced by its SHA-256, so
/// the stored id — and every log line that names it — cannot carry control characters or
/// anything else that could forge or colour a log line. Without the header the body's SHA-256 is the key.
/// </summary>
public static class WebhookEventId
{
    public const int MaxLength = 200;
    private static readonly SearchValues<char> Allowed = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    public static bool IsAcceptable(string value) =>
        value.Length is > 0 and <= MaxLength && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>The key for a delivery with the given header value (null or empty when absent) and raw body.</summary>
    public static string From(string? header, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(header))
        {
            return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
        }
        return IsAcceptable(header)
            ? header
            : "id-sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(header)));
    }
}
