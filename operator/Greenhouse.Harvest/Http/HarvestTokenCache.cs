using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Greenhouse.Harvest;

/// <summary>
/// Holds one access token per process and replaces it shortly before it expires. Only one token
/// request runs at a time (callers arriving meanwhile wait for its result). A rejected current
/// secret falls back to the previous one; rejected credentials are not retried before
/// <see cref="HarvestOptions.TokenFailureBackoff"/> unless they change.
/// </summary>
internal sealed partial class HarvestTokenCache(
    IHttpClientFactory httpClientFactory,
    IHarvestCredentialSource credentialSource,
    IOptions<HarvestOptions> options,
    HarvestStatus status,
    TimeProvider timeProvider,
    ILogger<HarvestTokenCache> logger) : IDisposable
{
    public const string HttpClientName = "Greenhouse.Harvest.Token";

    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);
    private readonly SemaphoreSlim refresh = new(1, 1);
    private volatile CachedToken? token;
    private volatile FailedAttempt? lastFailure;

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var credentials = CurrentCredentials();
        var cached = token;
        if (IsFresh(cached, credentials))
        {
            return cached!.AccessToken;
        }

        await refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            credentials = CurrentCredentials();
            cached = token;
            if (IsFresh(cached, credentials))
            {
                return cached!.AccessToken;
            }

            var failure = lastFailure;
            if (failure is not null && failure.Credentials == credentials && timeProvider.GetUtcNow() < failure.RetryAt)
            {
                throw new HarvestUnauthorizedException(failure.Error.Message, failure.Error.OAuthError);
            }

            var issued = await RequestAsync(credentials, cancellationToken).ConfigureAwait(false);
            token = issued;
            lastFailure = null;
            return issued.AccessToken;
        }
        finally
        {
            refresh.Release();
        }
    }

    public void Dispose() => refresh.Dispose();

    /// <summary>Forgets <paramref name="accessToken"/> after Harvest refused it, so the next call fetches a new one.</summary>
    public void Invalidate(string accessToken)
    {
        var cached = token;
        if (cached is not null && cached.AccessToken == accessToken)
        {
            token = null;
        }
    }

    private HarvestCredentials CurrentCredentials()
    {
        var credentials = credentialSource.Current;
        if (credentials is null || string.IsNullOrEmpty(credentials.ClientId) || string.IsNullOrEmpty(credentials.ClientSecret))
        {
            const string message = "No Harvest client credentials are configured (client_id and client_secret are required).";
            status.AuthenticationFailed(message);
            throw new HarvestUnauthorizedException(message);
        }

        return credentials;
    }

    private bool IsFresh(CachedToken? cached, HarvestCredentials credentials) =>
        cached is not null && cached.Credentials == credentials && timeProvider.GetUtcNow() < cached.RefreshAt;

    private async Task<CachedToken> RequestAsync(HarvestCredentials credentials, CancellationToken cancellationToken)
    {
        HarvestUnauthorizedException rejection;
        try
        {
            return await RequestWithSecretAsync(credentials, credentials.ClientSecret, usingPrevious: false, cancellationToken).ConfigureAwait(false);
        }
        catch (HarvestUnauthorizedException current) when (!string.IsNullOrEmpty(credentials.PreviousClientSecret))
        {
            LogCurrentSecretRejected(logger, credentials.ClientId, current.OAuthError);
            try
            {
                return await RequestWithSecretAsync(credentials, credentials.PreviousClientSecret!, usingPrevious: true, cancellationToken).ConfigureAwait(false);
            }
            catch (HarvestUnauthorizedException previous)
            {
                rejection = new HarvestUnauthorizedException($"Harvest rejected both the current and the previous client secret of client {credentials.ClientId} ({previous.OAuthError ?? "no error code"}).", previous.OAuthError);
            }
        }
        catch (HarvestUnauthorizedException current)
        {
            rejection = current;
        }

        lastFailure = new FailedAttempt(credentials, timeProvider.GetUtcNow() + options.Value.TokenFailureBackoff, rejection);
        status.AuthenticationFailed(rejection.Message);
        LogTokenRejected(logger, credentials.ClientId, rejection.OAuthError);
        throw rejection;
    }

    private async Task<CachedToken> RequestWithSecretAsync(HarvestCredentials credentials, string secret, bool usingPrevious, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var request = TokenRequest.Create(settings.TokenUrl, settings.SyncUserId, credentials.ClientId, secret);

        var client = httpClientFactory.CreateClient(HttpClientName);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException)
        {
            var message = $"The Harvest token endpoint {settings.TokenUrl} could not be reached: {e.Message}";
            status.CallFailed(message);
            throw new HarvestUnavailableException(message, e);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                var issued = Parse(body, credentials);
                status.TokenIssued(issued.ExpiresAt, usingPrevious);
                LogTokenIssued(logger, credentials.ClientId, issued.ExpiresAt, usingPrevious);
                return issued;
            }

            var oauthError = TokenRequest.OAuthError(body);
            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new HarvestUnauthorizedException(
                    $"The Harvest token endpoint refused client {credentials.ClientId}: {(int)response.StatusCode} {oauthError ?? "without an error code"}.", oauthError);
            }

            var failure = $"The Harvest token endpoint answered {(int)response.StatusCode}.";
            status.CallFailed(failure);
            throw new HarvestUnavailableException(failure, response.StatusCode);
        }
    }

    private CachedToken Parse(string body, HarvestCredentials credentials)
    {
        TokenResponse? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<TokenResponse>(body, HarvestJson.Options);
        }
        catch (JsonException e)
        {
            throw new HarvestUnavailableException("The Harvest token endpoint answered with a body that is not a token.", e);
        }

        if (parsed?.AccessToken is not { Length: > 0 } accessToken)
        {
            throw new HarvestUnavailableException("The Harvest token endpoint answered without an access_token.");
        }

        var now = timeProvider.GetUtcNow();
        var expiresAt = ExpiryOf(parsed, now);
        var lifetime = expiresAt - now;
        var margin = TimeSpan.FromTicks(Math.Min(options.Value.TokenRefreshMargin.Ticks, Math.Max(lifetime.Ticks, 0) / 2));
        return new CachedToken(accessToken, expiresAt, expiresAt - margin, credentials);
    }

    // Greenhouse does not document the field; clients in the wild see expires_at, expires_in or expires (see docs/harvest.md).
    private static DateTimeOffset ExpiryOf(TokenResponse response, DateTimeOffset now)
    {
        if (response.ExpiresAt is { } at && DateTimeOffset.TryParse(at, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var expiresAt))
        {
            return expiresAt;
        }

        if (response.ExpiresIn is { } seconds && seconds > 0)
        {
            return now.AddSeconds(seconds);
        }

        if (response.Expires is { } expiresElement)
        {
            var expires = expiresElement.ValueKind == JsonValueKind.String ? expiresElement.GetString() ?? string.Empty : expiresElement.GetRawText();
            if (long.TryParse(expires, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                // A large number is an epoch time, a small one a lifetime in seconds.
                return number > 1_000_000_000 ? DateTimeOffset.FromUnixTimeSeconds(number) : now.AddSeconds(number);
            }

            if (DateTimeOffset.TryParse(expires, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return parsed;
            }
        }

        return now + DefaultLifetime;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Obtained a Harvest access token for client {ClientId}, valid until {ExpiresAt} (previous secret: {UsingPreviousSecret})")]
    private static partial void LogTokenIssued(ILogger logger, string clientId, DateTimeOffset expiresAt, bool usingPreviousSecret);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Harvest rejected the current client secret of client {ClientId} ({OAuthError}); trying the previous secret")]
    private static partial void LogCurrentSecretRejected(ILogger logger, string clientId, string? oauthError);

    [LoggerMessage(Level = LogLevel.Error, Message = "Harvest rejected the credentials of client {ClientId} ({OAuthError})")]
    private static partial void LogTokenRejected(ILogger logger, string clientId, string? oauthError);

    private sealed record CachedToken(string AccessToken, DateTimeOffset ExpiresAt, DateTimeOffset RefreshAt, HarvestCredentials Credentials);

    private sealed record FailedAttempt(HarvestCredentials Credentials, DateTimeOffset RetryAt, HarvestUnauthorizedException Error);

    private sealed record TokenResponse(string? AccessToken, string? TokenType, string? ExpiresAt, long? ExpiresIn, JsonElement? Expires);
}
