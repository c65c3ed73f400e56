using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Greenhouse.Harvest;

/// <summary>
/// Harvest v3's partner webhook endpoints (<c>GET/POST /v3/webhooks</c>, <c>PATCH/DELETE /v3/webhooks/{id}</c>)
/// for callers that act for many integrations, each with its own credentials (the operator). Tokens come
/// from the same client-credentials request as the receiver's token cache (<see cref="TokenRequest"/>) and
/// are cached per connection until shortly before they expire; a refused token is dropped and the call
/// retried once with a fresh one. Failures are typed: <see cref="HarvestForbiddenException"/> names the
/// missing scope, <see cref="HarvestUnauthorizedException"/> (401 or refused credentials),
/// <see cref="HarvestValidationException"/> (422), <see cref="HarvestRateLimitedException"/> (429, with
/// Retry-After; not waited out here, the caller requeues), <see cref="HarvestUnavailableException"/>.
/// Secrets never appear in messages.
/// </summary>
public sealed class HarvestWebhookClient(HttpClient http, TimeProvider timeProvider)
{
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(2);
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset RefreshAt)> tokens = new(StringComparer.Ordinal);

    /// <summary>Every webhook of the organisation, following the <c>Link</c> header on Harvest's origin.</summary>
    public async Task<IReadOnlyList<HarvestWebhook>> ListAsync(HarvestConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var result = new List<HarvestWebhook>();
        Uri? next = Resolve(connection, "webhooks?per_page=500");
        while (next is not null)
        {
            using var response = await SendAsync(connection, HttpMethod.Get, next, null, HarvestScopes.WebhooksList, "list webhooks", cancellationToken).ConfigureAwait(false);
            result.AddRange(await ReadAsync<List<HarvestWebhook>>(response, "list webhooks", cancellationToken).ConfigureAwait(false) ?? []);
            next = LinkHeader.FindNext(response.Headers) is { } link ? SameOrigin(connection, new Uri(next, link)) : null;
        }

        return result;
    }

    public async Task<HarvestWebhook> CreateAsync(HarvestConnection connection, HarvestWebhookRequest webhook, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(webhook);
        using var response = await SendAsync(connection, HttpMethod.Post, Resolve(connection, "webhooks"), Body(webhook), HarvestScopes.WebhooksCreate, "create webhook", cancellationToken).ConfigureAwait(false);
        return await ReadAsync<HarvestWebhook>(response, "create webhook", cancellationToken).ConfigureAwait(false)
            ?? throw new HarvestException("Harvest answered create webhook with an empty body.");
    }

    public async Task<HarvestWebhook> UpdateAsync(HarvestConnection connection, long id, HarvestWebhookRequest webhook, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(webhook);
        using var response = await SendAsync(connection, HttpMethod.Patch, Resolve(connection, $"webhooks/{Format(id)}"), Body(webhook), HarvestScopes.WebhooksUpdate, "update webhook", cancellationToken).ConfigureAwait(false);
        return await ReadAsync<HarvestWebhook>(response, "update webhook", cancellationToken).ConfigureAwait(false) ?? new HarvestWebhook { Id = id };
    }

    /// <summary>Deletes a webhook; false when it did not exist (any more).</summary>
    public async Task<bool> DeleteAsync(HarvestConnection connection, long id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            using var response = await SendAsync(connection, HttpMethod.Delete, Resolve(connection, $"webhooks/{Format(id)}"), null, HarvestScopes.WebhooksDestroy, "delete webhook", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (HarvestNotFoundException)
        {
            return false;
        }
    }

    private static JsonObject Body(HarvestWebhookRequest webhook) => new()
    {
        ["name"] = webhook.Name,
        ["endpoint_url"] = webhook.EndpointUrl.AbsoluteUri,
        ["event_action_type"] = webhook.EventActionType,
        ["secret_key"] = webhook.SecretKey,
        ["max_attempts"] = webhook.MaxAttempts,
        ["deactivated"] = webhook.Deactivated,
        // Explicit nulls: a PATCH without Basic auth removes the credentials registered before.
        ["basic_auth_username"] = webhook.BasicAuthUsername,
        ["basic_auth_password"] = webhook.BasicAuthPassword,
    };

    private async Task<HttpResponseMessage> SendAsync(HarvestConnection connection, HttpMethod method, Uri uri, JsonObject? body, string scope, string operation, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await TokenAsync(connection, cancellationToken).ConfigureAwait(false);
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new HarvestUnavailableException($"Harvest could not be reached for {operation}: {e.Message}", e);
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
                {
                    // Revoked or expired early: one more try with a brand-new token.
                    tokens.TryRemove(TokenKey(connection), out _);
                    continue;
                }

                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw HarvestClient.Classify(response, HarvestErrorBody.Parse(text), scope, operation);
            }
        }
    }

    private async Task<string> TokenAsync(HarvestConnection connection, CancellationToken cancellationToken)
    {
        var key = TokenKey(connection);
        var now = timeProvider.GetUtcNow();
        if (tokens.TryGetValue(key, out var cached) && now < cached.RefreshAt)
        {
            return cached.Token;
        }

        using var request = TokenRequest.Create(connection.TokenUrl, connection.SyncUserId, connection.ClientId, connection.ClientSecret);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new HarvestUnavailableException($"The Harvest token endpoint {connection.TokenUrl} could not be reached: {e.Message}", e);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                var error = TokenRequest.OAuthError(body);
                throw new HarvestUnauthorizedException($"The Harvest token endpoint refused client {connection.ClientId}: {(int)response.StatusCode} {error ?? "without an error code"}.", error);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new HarvestUnavailableException($"The Harvest token endpoint answered {(int)response.StatusCode}.", response.StatusCode);
            }

            var (token, expiresAt) = ParseToken(body, now);
            var lifetime = expiresAt - now;
            var margin = TimeSpan.FromTicks(Math.Min(RefreshMargin.Ticks, Math.Max(lifetime.Ticks, 0) / 2));
            tokens[key] = (token, expiresAt - margin);
            return token;
        }
    }

    private static (string Token, DateTimeOffset ExpiresAt) ParseToken(string body, DateTimeOffset now)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("access_token", out var access) || access.ValueKind != JsonValueKind.String || access.GetString() is not { Length: > 0 } token)
            {
                throw new HarvestUnavailableException("The Harvest token endpoint answered without an access_token.");
            }

            if (root.TryGetProperty("expires_at", out var at) && at.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt))
            {
                return (token, expiresAt);
            }

            if (root.TryGetProperty("expires_in", out var seconds) && seconds.ValueKind == JsonValueKind.Number && seconds.TryGetInt64(out var s) && s > 0)
            {
                return (token, now.AddSeconds(s));
            }

            return (token, now.AddHours(1));
        }
        catch (JsonException e)
        {
            throw new HarvestUnavailableException("The Harvest token endpoint answered with a body that is not a token.", e);
        }
    }

    // Keyed by a hash, so the dictionary never holds a client secret in clear.
    private static string TokenKey(HarvestConnection connection) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{connection.TokenUrl}\n{connection.SyncUserId}\n{connection.ClientId}\n{connection.ClientSecret}")));

    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return default;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            return default;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text, HarvestJson.Options);
        }
        catch (JsonException e)
        {
            throw new HarvestException($"Harvest answered {operation} with JSON this client cannot read: {e.Message}", e);
        }
    }

    private static Uri Resolve(HarvestConnection connection, string relative) => new(connection.BaseUrl.AbsoluteUri.TrimEnd('/') + "/" + relative);

    private static Uri SameOrigin(HarvestConnection connection, Uri next) =>
        Uri.Compare(next, connection.BaseUrl, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) == 0
            ? next
            : throw new HarvestException($"Harvest sent a next-page link to another origin ({next.GetLeftPart(UriPartial.Authority)}); refusing to follow it.");

    private static string Format(long id) => id.ToString(CultureInfo.InvariantCulture);
}
