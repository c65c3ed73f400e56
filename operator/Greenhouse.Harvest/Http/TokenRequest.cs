using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Greenhouse.Harvest;

/// <summary>
/// The OAuth client-credentials request Greenhouse's token endpoint takes (Basic auth with URL-encoded
/// id and secret, <c>sub</c> = the sync user) and its error answer; shared by the token cache and the
/// operator's credential check so both send exactly the same request.
/// </summary>
internal static class TokenRequest
{
    public static HttpRequestMessage Create(Uri tokenUrl, long? syncUserId, string clientId, string clientSecret)
    {
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (syncUserId is { } sub)
        {
            form.Add(new("sub", sub.ToString(CultureInfo.InvariantCulture)));
        }

        var request = new HttpRequestMessage(HttpMethod.Post, tokenUrl) { Content = new FormUrlEncodedContent(form) };
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(clientSecret)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    /// <summary>The OAuth <c>error</c> code of a refusal, or null when the body has none.</summary>
    public static string? OAuthError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String
                ? error.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
