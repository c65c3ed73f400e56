using System.Security.Cryptography;
using System.Text;

namespace Greenhouse.Receiver.Webhooks;

/// <summary>The user and password Greenhouse sends as Basic auth when the admin configured them.</summary>
public sealed record BasicAuthCredentials(string Username, string Password)
{
    // A record prints its members; keep the password out of any accidental log line.
    public override string ToString() => $"BasicAuthCredentials {{ Username = {Username} }}";

    /// <summary>Constant-time check of an Authorization header value.</summary>
    public bool Matches(string? authorization)
    {
        const string scheme = "Basic ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var expected = Encoding.UTF8.GetBytes($"{Username}:{Password}");
        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(authorization[scheme.Length..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }
}
