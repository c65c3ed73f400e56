using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>
/// Mints and verifies ServiceAccount tokens as the API server does: RS256 JWTs signed with a key generated when the
/// emulator starts (never persisted), with the claims Kubernetes puts in them, and publishes the public key as a
/// JWKS with an OIDC discovery document so a token can be verified offline.
/// </summary>
internal sealed class ServiceAccountTokenIssuer : IDisposable
{
    private readonly Lazy<RSA> _lazyKey = new(() => RSA.Create(2048));
    private readonly Lazy<string> _keyId;
    private readonly TimeProvider _time;

    public ServiceAccountTokenIssuer(TimeProvider time)
    {
        _time = time;
        // As the API server: the key id is the unpadded base64url SHA-256 of the DER public key.
        _keyId = new(() => Base64Url.EncodeToString(SHA256.HashData(_lazyKey.Value.ExportSubjectPublicKeyInfo())));
    }

    /// <summary>Made on first use: most emulators in tests never mint a token.</summary>
    public string KeyId => _keyId.Value;

    private RSA Key => _lazyKey.Value;

    /// <summary>The iss claim; set once the server knows its address.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The API server's own audiences: a token used as a bearer token must name one of them.</summary>
    public IReadOnlyList<string> ApiAudiences { get; set; } = [];

    public string Mint(ServiceAccountClaims claims, IReadOnlyList<string> audiences, DateTimeOffset issuedAt, DateTimeOffset expires)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = KeyId };
        var k8s = new JsonObject { ["namespace"] = claims.Namespace };
        if (claims.PodName is not null)
        {
            k8s["pod"] = new JsonObject { ["name"] = claims.PodName, ["uid"] = claims.PodUid };
        }

        if (claims.SecretName is not null)
        {
            k8s["secret"] = new JsonObject { ["name"] = claims.SecretName, ["uid"] = claims.SecretUid };
        }

        k8s["serviceaccount"] = new JsonObject { ["name"] = claims.ServiceAccountName, ["uid"] = claims.ServiceAccountUid };
        var payload = new JsonObject
        {
            ["aud"] = new JsonArray([.. audiences.Select(a => (JsonNode)JsonValue.Create(a))]),
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
            ["iss"] = Issuer,
            ["jti"] = claims.TokenId,
            ["kubernetes.io"] = k8s,
            ["nbf"] = issuedAt.ToUnixTimeSeconds(),
            ["sub"] = UserInfo.ServiceAccountPrefix + claims.Namespace + ":" + claims.ServiceAccountName,
        };
        var signingInput = Base64Url.EncodeToString(Json.Bytes(header)) + "." + Base64Url.EncodeToString(Json.Bytes(payload));
        var signature = Key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>True when the token looks like a JWT this issuer could have signed (three base64url parts).</summary>
    public static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2 && token.Split('.').All(p => p.Length > 0);

    /// <summary>
    /// Checks signature, issuer, validity window and audience (the intersection of the token's audiences with
    /// <paramref name="audiences"/>, or the API audiences when none are given, must not be empty). The caller checks
    /// that the ServiceAccount and bound object still exist.
    /// </summary>
    public TokenVerification Verify(string token, IReadOnlyList<string>? audiences)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return TokenVerification.Failed("token is not a JWT");
        }

        JsonObject header;
        JsonObject payload;
        byte[] signature;
        try
        {
            header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))?.AsObject() ?? throw new FormatException();
            payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))?.AsObject() ?? throw new FormatException();
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            return TokenVerification.Failed("token is not a JWT");
        }

        if (Json.String(payload["iss"]) != Issuer)
        {
            // Not ours: the API server's service-account authenticator does not claim tokens of another issuer.
            return TokenVerification.Failed("token issuer is not recognised");
        }

        if (Json.String(header["alg"]) != "RS256" || Json.String(header["kid"]) != KeyId
            || !Key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return TokenVerification.Failed("square/go-jose: error in cryptographic primitive");
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (Json.Long(payload["exp"]) is not { } exp || now >= exp)
        {
            return TokenVerification.Failed("service account token has expired");
        }

        if (Json.Long(payload["nbf"]) is { } nbf && now < nbf)
        {
            return TokenVerification.Failed("service account token is not valid yet");
        }

        var tokenAudiences = payload["aud"] is JsonArray ? Json.StringList(payload["aud"]) : Json.String(payload["aud"]) is { } single ? [single] : [];
        var wanted = audiences is { Count: > 0 } ? audiences : ApiAudiences;
        var matching = wanted.Where(tokenAudiences.Contains).ToList();
        if (matching.Count == 0)
        {
            return TokenVerification.Failed(string.Create(CultureInfo.InvariantCulture, $"token audiences {GoQuoted(tokenAudiences)} is invalid for the target audiences {GoQuoted(wanted)}"));
        }

        var k8s = payload["kubernetes.io"] as JsonObject;
        var claims = new ServiceAccountClaims(
            Json.String(k8s?["namespace"]) ?? "",
            Json.String(k8s?["serviceaccount"]?["name"]) ?? "",
            Json.String(k8s?["serviceaccount"]?["uid"]) ?? "",
            Json.String(payload["jti"]) ?? "")
        {
            PodName = Json.String(k8s?["pod"]?["name"]),
            PodUid = Json.String(k8s?["pod"]?["uid"]),
            SecretName = Json.String(k8s?["secret"]?["name"]),
            SecretUid = Json.String(k8s?["secret"]?["uid"]),
        };
        if (claims.Namespace.Length == 0 || claims.ServiceAccountName.Length == 0)
        {
            return TokenVerification.Failed("token has no kubernetes.io service account claims");
        }

        return new TokenVerification(claims, matching, null);
    }

    /// <summary>The JSON Web Key Set served at /openid/v1/jwks.</summary>
    public JsonObject Jwks()
    {
        var p = Key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["use"] = "sig",
                ["kty"] = "RSA",
                ["kid"] = KeyId,
                ["alg"] = "RS256",
                ["n"] = Base64Url.EncodeToString(p.Modulus),
                ["e"] = Base64Url.EncodeToString(p.Exponent),
            }),
        };
    }

    /// <summary>The OIDC discovery document served at /.well-known/openid-configuration.</summary>
    public JsonObject OpenIdConfiguration(string jwksUri) => new()
    {
        ["issuer"] = Issuer,
        ["jwks_uri"] = jwksUri,
        ["response_types_supported"] = new JsonArray("id_token"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
    };

    public void Dispose()
    {
        if (_lazyKey.IsValueCreated)
        {
            _lazyKey.Value.Dispose();
        }
    }

    /// <summary>Go's %q of a string slice: ["a" "b"].</summary>
    private static string GoQuoted(IEnumerable<string> values) => "[" + string.Join(" ", values.Select(v => "\"" + v + "\"")) + "]";
}
