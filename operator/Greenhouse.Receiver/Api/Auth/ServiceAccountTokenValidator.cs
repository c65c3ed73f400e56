using System.Buffers.Text;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Api.Auth;

/// <summary>
/// Verifies Kubernetes ServiceAccount tokens offline: RS256 signature against the cluster issuer's
/// public keys (<c>/openid/v1/jwks</c> of the API server, refreshed hourly and when an unknown key id
/// shows up), issuer (from <c>/.well-known/openid-configuration</c>), this receiver's audience,
/// expiry with 30 s leeway, a bounded lifetime, and a <c>system:serviceaccount:NS:NAME</c> subject.
/// Needs no RBAC beyond the discovery access every ServiceAccount has, and no call to the API
/// server per request.
/// </summary>
public sealed partial class ServiceAccountTokenValidator : IDisposable
{
    private const int MaxTokenChars = 16 * 1024;
    private const string SubjectPrefix = "system:serviceaccount:";
    private static readonly TimeSpan Leeway = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan KeysMaxAge = TimeSpan.FromHours(1);
    private static readonly TimeSpan UnknownKeyRefetchSpacing = TimeSpan.FromSeconds(10);

    private readonly ApiAuthOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ServiceAccountTokenValidator> _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile IssuerKeys? _keys;

    public ServiceAccountTokenValidator(ApiAuthOptions options, TimeProvider time, ILogger<ServiceAccountTokenValidator> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _logger = logger;
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (options.CaFile is { } caFile)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustedBy(roots, certificate, errors);
        }
        _http = new HttpClient(handler) { BaseAddress = options.ApiServer, Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task<TokenCheck> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length > MaxTokenChars)
        {
            return TokenCheck.Refused("token too long");
        }
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return TokenCheck.Refused("not a JWT");
        }
        JsonElement header, claims;
        byte[] signature;
        try
        {
            header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])).RootElement;
            claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1])).RootElement;
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return TokenCheck.Refused("not a JWT");
        }
        if (header.ValueKind != JsonValueKind.Object || claims.ValueKind != JsonValueKind.Object || Text(header, "alg") != "RS256")
        {
            return TokenCheck.Refused("not an RS256-signed JWT");
        }
        var kid = Text(header, "kid") ?? string.Empty;

        IssuerKeys keys;
        try
        {
            keys = await KeysAsync(kid, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException or InvalidOperationException or IOException)
        {
            LogKeysUnavailable(_logger, _options.ApiServer, ex.Message);
            return new TokenCheck(null, "the cluster's service-account keys cannot be fetched", Unavailable: true);
        }
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var candidates = keys.Keys.TryGetValue(kid, out var key) ? [key] : kid.Length == 0 ? keys.Keys.Values.ToList() : [];
        if (!candidates.Any(k => k.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)))
        {
            return TokenCheck.Refused("signature not made by the cluster's service-account issuer");
        }
        return CheckClaims(claims, keys.Issuer);
    }

    private TokenCheck CheckClaims(JsonElement claims, string issuer)
    {
        if (Text(claims, "iss") != issuer)
        {
            return TokenCheck.Refused("issuer is not the cluster's service-account issuer");
        }
        if (!Audiences(claims).Contains(_options.Audience, StringComparer.Ordinal))
        {
            return TokenCheck.Refused($"audience is not {_options.Audience}");
        }
        var now = _time.GetUtcNow();
        if (Seconds(claims, "exp") is not { } exp)
        {
            return TokenCheck.Refused("token has no expiry (legacy Secret-based tokens are not accepted)");
        }
        if (exp + Leeway < now)
        {
            return TokenCheck.Refused("token expired");
        }
        if (Seconds(claims, "nbf") is { } nbf && nbf - Leeway > now)
        {
            return TokenCheck.Refused("token not valid yet");
        }
        if (exp - (Seconds(claims, "iat") ?? now) > _options.MaxTokenLifetime)
        {
            return TokenCheck.Refused($"token lifetime longer than Api:Auth:MaxTokenLifetime ({_options.MaxTokenLifetime})");
        }
        var subject = Text(claims, "sub");
        var names = subject is not null && subject.StartsWith(SubjectPrefix, StringComparison.Ordinal) ? subject[SubjectPrefix.Length..].Split(':') : [];
        if (names.Length != 2 || names[0].Length == 0 || names[1].Length == 0)
        {
            return TokenCheck.Refused("subject is not a ServiceAccount");
        }
        // When present, the Kubernetes claims must name the same ServiceAccount.
        if (claims.TryGetProperty("kubernetes.io", out var kubernetes) && kubernetes.ValueKind == JsonValueKind.Object
            && (Text(kubernetes, "namespace") is { } ns && ns != names[0]
                || kubernetes.TryGetProperty("serviceaccount", out var account) && Text(account, "name") is { } name && name != names[1]))
        {
            return TokenCheck.Refused("subject and kubernetes.io claims disagree");
        }
        return new TokenCheck(new ServiceAccountIdentity(names[0], names[1]), null);
    }

    private async Task<IssuerKeys> KeysAsync(string kid, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var current = _keys;
        if (current is not null && now - current.FetchedAt < KeysMaxAge
            && (kid.Length == 0 || current.Keys.ContainsKey(kid) || now - current.FetchedAt < UnknownKeyRefetchSpacing))
        {
            return current;
        }
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have refreshed while this one waited.
            current = _keys;
            if (current is not null && now - current.FetchedAt < KeysMaxAge && (kid.Length == 0 || current.Keys.ContainsKey(kid) || current.FetchedAt >= now))
            {
                return current;
            }
            var fetched = await FetchAsync(cancellationToken).ConfigureAwait(false);
            _keys = fetched;
            LogKeysFetched(_logger, fetched.Keys.Count, fetched.Issuer);
            return fetched;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task<IssuerKeys> FetchAsync(CancellationToken cancellationToken)
    {
        using var discovery = JsonDocument.Parse(await GetAsync(".well-known/openid-configuration", cancellationToken).ConfigureAwait(false));
        var issuer = Text(discovery.RootElement, "issuer") ?? throw new InvalidOperationException("the discovery document has no issuer");
        // The API server's own JWKS path rather than the document's jwks_uri, which may name an
        // address meant for clients outside the cluster.
        using var jwks = JsonDocument.Parse(await GetAsync("openid/v1/jwks", cancellationToken).ConfigureAwait(false));
        var keys = new Dictionary<string, RSA>(StringComparer.Ordinal);
        if (jwks.RootElement.TryGetProperty("keys", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var jwk in list.EnumerateArray())
            {
                if (Text(jwk, "kty") == "RSA" && Text(jwk, "use") is null or "sig" && Text(jwk, "alg") is null or "RS256"
                    && Text(jwk, "n") is { } n && Text(jwk, "e") is { } e)
                {
                    var rsa = RSA.Create();
                    rsa.ImportParameters(new RSAParameters { Modulus = Base64Url.DecodeFromChars(n), Exponent = Base64Url.DecodeFromChars(e) });
                    keys[Text(jwk, "kid") ?? string.Empty] = rsa;
                }
            }
        }
        return new IssuerKeys(issuer, keys, _time.GetUtcNow());
    }

    private async Task<string> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (_options.TokenFile is { } tokenFile && File.Exists(tokenFile))
        {
            // Re-read every time: the kubelet rotates the projected token.
            request.Headers.Authorization = new("Bearer", (await File.ReadAllTextAsync(tokenFile, cancellationToken).ConfigureAwait(false)).Trim());
        }
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    private static bool TrustedBy(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Seconds(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private static List<string> Audiences(JsonElement claims)
    {
        if (!claims.TryGetProperty("aud", out var aud))
        {
            return [];
        }
        return aud.ValueKind switch
        {
            JsonValueKind.String => [aud.GetString()!],
            JsonValueKind.Array => [.. aud.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!)],
            _ => [],
        };
    }

    public void Dispose()
    {
        _http.Dispose();
        _refresh.Dispose();
    }

    private sealed record IssuerKeys(string Issuer, IReadOnlyDictionary<string, RSA> Keys, DateTimeOffset FetchedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched {Keys} service-account signing keys of issuer {Issuer}")]
    private static partial void LogKeysFetched(ILogger logger, int keys, string issuer);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot fetch the service-account issuer's keys from {ApiServer}: {Reason}; API calls are answered UNAVAILABLE until it can")]
    private static partial void LogKeysUnavailable(ILogger logger, Uri apiServer, string reason);
}
