using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Greenhouse;

/// <summary>
/// <c>POST /token</c> with the client credentials grant: HTTP Basic client authentication, form body with
/// <c>grant_type</c> and optional <c>sub</c>. Errors follow RFC 6749 §5.2 (Greenhouse documents none):
/// 401 <c>invalid_client</c>, 400 <c>unsupported_grant_type</c> / <c>invalid_request</c>.
/// </summary>
internal sealed class TokenService(GreenhouseSimulatorOptions options, SimulatorStore store)
{
    private readonly ConcurrentDictionary<string, SimulatedClient> clients = new(
        (options.Clients.Count == 0 ? [SimulatedClient.Default] : options.Clients).Select(c => KeyValuePair.Create(c.ClientId, c)));
    private readonly ConcurrentDictionary<string, IssuedToken> tokens = new(StringComparer.Ordinal);
    private readonly byte[] signingKey = RandomNumberGenerator.GetBytes(32);
    private int requests;

    public int Requests => Volatile.Read(ref requests);

    public SimulatedClient? Client(string clientId) => clients.GetValueOrDefault(clientId);

    public void SetClient(SimulatedClient client) => clients[client.ClientId] = client;

    public void ExpireAll()
    {
        foreach (var (key, token) in tokens)
        {
            tokens[key] = token with { ExpiresAt = DateTimeOffset.MinValue };
        }
    }

    public IssuedToken? Validate(string? authorization)
    {
        if (authorization is null || !AuthenticationHeaderValue.TryParse(authorization, out var header)
            || !"Bearer".Equals(header.Scheme, StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }

        return tokens.TryGetValue(header.Parameter, out var token) && options.TimeProvider.GetUtcNow() < token.ExpiresAt ? token : null;
    }

    public async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref requests);
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        var credentials = ReadBasic(request.Headers.Authorization, options.Strict);
        var client = credentials is null ? null : Client(credentials.Value.Id);
        if (client is null || !Matches(credentials!.Value.Secret, client))
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"greenhouse\"";
            await Error(context, StatusCodes.Status401Unauthorized, "invalid_client", "Client authentication failed.").ConfigureAwait(false);
            return;
        }

        if (!request.HasFormContentType)
        {
            await Error(context, StatusCodes.Status400BadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.").ConfigureAwait(false);
            return;
        }

        var form = await request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        if (form["grant_type"] != "client_credentials")
        {
            await Error(context, StatusCodes.Status400BadRequest, "unsupported_grant_type", "Only client_credentials is supported.").ConfigureAwait(false);
            return;
        }

        long? sub = null;
        if (form.TryGetValue("sub", out var subValue) && !string.IsNullOrEmpty(subValue))
        {
            if (!long.TryParse(subValue, NumberStyles.None, CultureInfo.InvariantCulture, out var userId) || !UserExists(userId))
            {
                await Error(context, StatusCodes.Status400BadRequest, "invalid_request", "sub is not an active user of this organization.").ConfigureAwait(false);
                return;
            }

            sub = userId;
        }

        var now = options.TimeProvider.GetUtcNow();
        var expiresAt = now + options.TokenLifetime;
        var accessToken = Mint(client.ClientId, sub, now, expiresAt);
        tokens[accessToken] = new IssuedToken(client.ClientId, sub, expiresAt);
        var body = new JsonObject { ["access_token"] = accessToken, ["token_type"] = "Bearer" };
        if (options.TokenExpiryFormat == TokenExpiryFormat.ExpiresIn)
        {
            body["expires_in"] = (long)options.TokenLifetime.TotalSeconds;
        }
        else
        {
            body["expires_at"] = GreenhouseJson.Timestamp(expiresAt);
        }

        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private bool UserExists(long userId)
    {
        lock (store.Gate)
        {
            return store.Users.TryGetValue(userId, out var user) && user["deactivated"]?.GetValue<bool>() != true;
        }
    }

    private static bool Matches(string presented, SimulatedClient client) =>
        Equal(presented, client.ClientSecret) || (client.PreviousClientSecret is { } previous && Equal(presented, previous));

    private static bool Equal(string a, string b) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static bool EncodedAsRequired(string sent, string value) =>
        string.Equals(sent, Uri.EscapeDataString(value), StringComparison.OrdinalIgnoreCase)
        || string.Equals(sent, System.Web.HttpUtility.UrlEncode(value), StringComparison.OrdinalIgnoreCase);

    private static (string Id, string Secret)? ReadBasic(string? authorization, bool strict)
    {
        if (authorization is null || !AuthenticationHeaderValue.TryParse(authorization, out var header)
            || !"Basic".Equals(header.Scheme, StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                return null;
            }
            var (id, secret) = (Uri.UnescapeDataString(decoded[..colon]), Uri.UnescapeDataString(decoded[(colon + 1)..]));
            // RFC 6749 2.3.1: each part is form-URL-encoded before Base64; strict mode refuses raw ones.
            return strict && (!EncodedAsRequired(decoded[..colon], id) || !EncodedAsRequired(decoded[(colon + 1)..], secret)) ? null : (id, secret);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // A JWT-shaped token (the real ones are JWTs); the simulator checks tokens by lookup, the signature is decoration.
    private string Mint(string clientId, long? sub, DateTimeOffset now, DateTimeOffset expiresAt)
    {
        var header = Base64Url.EncodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8);
        var claims = new JsonObject
        {
            ["iss"] = "https://auth.greenhouse.io",
            ["client_id"] = clientId,
            ["sub"] = sub?.ToString(CultureInfo.InvariantCulture),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = expiresAt.ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = Base64Url.EncodeToString(HMACSHA256.HashData(signingKey, Encoding.ASCII.GetBytes(header + "." + payload)));
        return $"{header}.{payload}.{signature}";
    }

    private static Task Error(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(new JsonObject { ["error"] = error, ["error_description"] = description }.ToJsonString(), context.RequestAborted);
    }

    internal sealed record IssuedToken(string ClientId, long? Sub, DateTimeOffset ExpiresAt);
}
