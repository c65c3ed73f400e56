using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Greenhouse.Harvest;

/// <summary>
/// Requests one access token with candidate credentials (client-credentials grant, the same request the
/// client's token cache makes) to learn whether they work before anything relies on them. The token is
/// discarded. Used by the operator before it rolls out changed credentials.
/// </summary>
public sealed class HarvestTokenCheck(HttpClient httpClient)
{
    public async Task<HarvestTokenCheckResult> CheckAsync(Uri tokenUrl, long? syncUserId, string clientId, string clientSecret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tokenUrl);
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(clientSecret);
        using var request = TokenRequest.Create(tokenUrl, syncUserId, clientId, clientSecret);
        HttpResponseMessage response;
        try
        {
            response = await httpClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new HarvestTokenCheckResult(HarvestTokenCheckOutcome.Unreachable, $"the token endpoint {tokenUrl} could not be reached: {e.Message}");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return new HarvestTokenCheckResult(HarvestTokenCheckOutcome.Accepted, $"the token endpoint issued a token to client {clientId}", ExpiresAt(body));
            }

            var error = TokenRequest.OAuthError(body);
            return response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? new HarvestTokenCheckResult(HarvestTokenCheckOutcome.Rejected, $"the token endpoint refused client {clientId}: {(int)response.StatusCode} {error ?? "without an error code"}")
                : new HarvestTokenCheckResult(HarvestTokenCheckOutcome.Unreachable, $"the token endpoint {tokenUrl} answered {(int)response.StatusCode}");
        }
    }

    private static DateTimeOffset? ExpiresAt(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("expires_at", out var at) && at.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return parsed;
            }

            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
