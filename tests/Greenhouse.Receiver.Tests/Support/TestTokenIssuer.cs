using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>
/// A service-account issuer under the test's control on 127.0.0.1: the API server's OIDC discovery
/// document and JWKS, and RS256 tokens with the claims Kubernetes puts in ServiceAccount tokens.
/// </summary>
internal sealed class TestTokenIssuer : IAsyncDisposable
{
    public const string KeyId = "test-key-1";
    private readonly WebApplication _app;
    private readonly RSA _key = RSA.Create(2048);

    private TestTokenIssuer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }
    public string Issuer { get; } = "https://kubernetes.default.svc.cluster.local";
    public int KeyRequests { get; private set; }

    public static async Task<TestTokenIssuer> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var issuer = new TestTokenIssuer(app, new Uri($"http://127.0.0.1:{port}"));
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer.Issuer,
            ["jwks_uri"] = "https://203.0.113.10:6443/openid/v1/jwks",
            ["response_types_supported"] = new[] { "id_token" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet("/openid/v1/jwks", () =>
        {
            issuer.KeyRequests++;
            var parameters = issuer._key.ExportParameters(false);
            return Results.Json(new Dictionary<string, object>
            {
                ["keys"] = new[]
                {
                    new Dictionary<string, string>
                    {
                        ["use"] = "sig", ["kty"] = "RSA", ["kid"] = KeyId, ["alg"] = "RS256",
                        ["n"] = Base64Url.EncodeToString(parameters.Modulus), ["e"] = Base64Url.EncodeToString(parameters.Exponent),
                    },
                },
            });
        });
        await app.StartAsync();
        return issuer;
    }

    /// <summary>A token as <c>kubectl create token NAME -n NAMESPACE --audience AUDIENCE</c> would get.</summary>
    public string Mint(string ns, string name, string audience, TimeSpan? lifetime = null, DateTimeOffset? issuedAt = null, RSA? signWith = null, string? issuer = null)
    {
        var iat = issuedAt ?? DateTimeOffset.UtcNow;
        var exp = iat + (lifetime ?? TimeSpan.FromHours(1));
        var header = new Dictionary<string, object> { ["alg"] = "RS256", ["kid"] = KeyId };
        var claims = new Dictionary<string, object>
        {
            ["aud"] = new[] { audience },
            ["exp"] = exp.ToUnixTimeSeconds(),
            ["iat"] = iat.ToUnixTimeSeconds(),
            ["nbf"] = iat.ToUnixTimeSeconds(),
            ["iss"] = issuer ?? Issuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["kubernetes.io"] = new Dictionary<string, object>
            {
                ["namespace"] = ns,
                ["serviceaccount"] = new Dictionary<string, string> { ["name"] = name, ["uid"] = Guid.NewGuid().ToString() },
            },
            ["sub"] = string.Create(CultureInfo.InvariantCulture, $"system:serviceaccount:{ns}:{name}"),
        };
        var signingInput = Part(header) + "." + Part(claims);
        var signature = (signWith ?? _key).SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    private static string Part(object value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _key.Dispose();
    }
}
