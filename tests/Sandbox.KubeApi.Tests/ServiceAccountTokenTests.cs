using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Sandbox.KubeApi.Tests;

/// <summary>TokenRequest, TokenReview, OIDC discovery and bearer-token authentication of ServiceAccount tokens.</summary>
public sealed class ServiceAccountTokenTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private KubeApiServer _server = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeApiServer.StartAsync(new KubeApiServerOptions { TimeProvider = _time });
        _admin = SecurityClients.Admin(_server);
        await _admin.CreateNamespaceAsync("hr");
        await _admin.CreateServiceAccountAsync("hr", "reader");
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Token_request_mints_an_rs256_jwt_with_kubernetes_claims_that_verifies_against_the_published_jwks()
    {
        var (_, sa) = await _admin.GetJsonAsync("/api/v1/namespaces/hr/serviceaccounts/reader");
        var token = await _admin.TokenAsync("hr", "reader", new JsonObject { ["audiences"] = new JsonArray("receiver"), ["expirationSeconds"] = 1200 });

        // Offline validation as a client would do it: discovery document, then its jwks_uri, then the signature.
        using var anonymous = TestClients.Http(_server);
        var (_, discovery) = await anonymous.GetJsonAsync("/.well-known/openid-configuration");
        Assert.Equal(_server.ServiceAccountIssuer, (string?)discovery!["issuer"]);
        var (_, jwks) = await anonymous.GetJsonAsync(new Uri((string)discovery["jwks_uri"]!).AbsolutePath);
        var parts = token.Split('.');
        var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!;
        var key = jwks!["keys"]!.AsArray().Single(k => (string?)k!["kid"] == (string?)header["kid"])!;
        using var rsa = RSA.Create(new RSAParameters { Modulus = Base64Url.DecodeFromChars((string)key["n"]!), Exponent = Base64Url.DecodeFromChars((string)key["e"]!) });
        Assert.Equal("RS256", (string?)header["alg"]);
        Assert.True(rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!;
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(_server.ServiceAccountIssuer, (string?)claims["iss"]);
        Assert.Equal("system:serviceaccount:hr:reader", (string?)claims["sub"]);
        Assert.Equal(["receiver"], claims["aud"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(now, (long)claims["iat"]!);
        Assert.Equal(now, (long)claims["nbf"]!);
        Assert.Equal(now + 1200, (long)claims["exp"]!);
        Assert.Equal("hr", (string?)claims["kubernetes.io"]!["namespace"]);
        Assert.Equal("reader", (string?)claims["kubernetes.io"]!["serviceaccount"]!["name"]);
        Assert.Equal((string?)sa!["metadata"]!["uid"], (string?)claims["kubernetes.io"]!["serviceaccount"]!["uid"]);
        Assert.NotNull(claims["jti"]);
    }

    [Fact]
    public async Task Token_review_authenticates_for_the_tokens_audience_and_refuses_another()
    {
        var token = await _admin.TokenAsync("hr", "reader", new JsonObject { ["audiences"] = new JsonArray("receiver", "other") });

        var right = await ReviewAsync(token, "receiver");
        var wrong = await ReviewAsync(token, "somebody-else");

        Assert.True((bool)right["authenticated"]!);
        Assert.Equal("system:serviceaccount:hr:reader", (string?)right["user"]!["username"]);
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:hr", "system:authenticated"], right["user"]!["groups"]!.AsArray().Select(g => (string)g!));
        Assert.Equal(["receiver"], right["audiences"]!.AsArray().Select(a => (string)a!));
        Assert.StartsWith("JTI=", (string)right["user"]!["extra"]!["authentication.kubernetes.io/credential-id"]![0]!, StringComparison.Ordinal);
        Assert.Null(wrong["authenticated"]);
        Assert.Equal("[invalid bearer token, token audiences [\"receiver\" \"other\"] is invalid for the target audiences [\"somebody-else\"]]", (string?)wrong["error"]);
    }

    [Fact]
    public async Task Token_without_audience_is_for_the_api_server_and_reviews_without_audience_use_it()
    {
        var token = await _admin.TokenAsync("hr", "reader");

        var review = await ReviewAsync(token, null);

        Assert.True((bool)review["authenticated"]!);
        Assert.Equal([_server.ServiceAccountIssuer], review["audiences"]!.AsArray().Select(a => (string)a!));
    }

    [Fact]
    public async Task Expired_token_fails_review_and_is_answered_401_as_a_bearer_token()
    {
        var token = await _admin.TokenAsync("hr", "reader", new JsonObject { ["expirationSeconds"] = 600 });
        using var asReader = SecurityClients.WithToken(_server, token);
        var (before, _) = await asReader.GetJsonAsync("/api/v1/namespaces/hr/configmaps");

        _time.Advance(TimeSpan.FromSeconds(601));
        var review = await ReviewAsync(token, null);
        var (after, status) = await asReader.GetJsonAsync("/api/v1/namespaces/hr/configmaps");

        Assert.Equal(200, before);
        Assert.Equal("[invalid bearer token, service account token has expired]", (string?)review["error"]);
        Assert.Equal(401, after);
        Assert.Equal("Unauthorized", (string?)status!["reason"]);
        Assert.Equal("Unauthorized", (string?)status["message"]);
    }

    [Fact]
    public async Task Token_with_a_forged_signature_is_refused()
    {
        var token = await _admin.TokenAsync("hr", "reader");
        var parts = token.Split('.');
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject();
        claims["sub"] = "system:serviceaccount:kube-system:admin";
        var forged = parts[0] + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString())) + "." + parts[2];

        using var client = SecurityClients.WithToken(_server, forged);
        var (code, _) = await client.GetJsonAsync("/api/v1/namespaces");
        var review = await ReviewAsync(forged, null);

        Assert.Equal(401, code);
        Assert.Null(review["authenticated"]);
        Assert.Contains("invalid bearer token", (string?)review["error"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_of_a_deleted_service_account_no_longer_authenticates()
    {
        var token = await _admin.TokenAsync("hr", "reader");
        await _admin.DeleteJsonAsync("/api/v1/namespaces/hr/serviceaccounts/reader");
        await _admin.CreateServiceAccountAsync("hr", "reader");

        var review = await ReviewAsync(token, null);

        Assert.Null(review["authenticated"]);
        Assert.Contains("serviceaccounts \"reader\" UID", (string?)review["error"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_bound_to_a_pod_carries_the_pod_and_dies_with_it()
    {
        await _admin.CreateAsync("/api/v1/namespaces/hr/pods", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "p" },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "i" }) },
        });
        var token = await _admin.TokenAsync("hr", "reader", new JsonObject { ["boundObjectRef"] = new JsonObject { ["kind"] = "Pod", ["apiVersion"] = "v1", ["name"] = "p" } });
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(token.Split('.')[1]))!;

        var review = await ReviewAsync(token, null);
        await _admin.DeleteJsonAsync("/api/v1/namespaces/hr/pods/p", new JsonObject { ["gracePeriodSeconds"] = 0 });
        var afterDelete = await ReviewAsync(token, null);

        Assert.Equal("p", (string?)claims["kubernetes.io"]!["pod"]!["name"]);
        Assert.Equal("p", (string?)review["user"]!["extra"]!["authentication.kubernetes.io/pod-name"]![0]);
        Assert.Equal("[invalid bearer token, pods \"p\" not found]", (string?)afterDelete["error"]);
    }

    [Fact]
    public async Task Token_request_refuses_lifetimes_under_ten_minutes_and_unknown_service_accounts()
    {
        var (shortCode, shortBody) = await _admin.PostJsonAsync("/api/v1/namespaces/hr/serviceaccounts/reader/token", new JsonObject { ["spec"] = new JsonObject { ["expirationSeconds"] = 60 } });
        var (missingCode, missingBody) = await _admin.PostJsonAsync("/api/v1/namespaces/hr/serviceaccounts/nobody/token", new JsonObject { ["spec"] = new JsonObject() });

        Assert.Equal(422, shortCode);
        Assert.Contains("may not specify a duration less than 10 minutes", (string?)shortBody!["message"], StringComparison.Ordinal);
        Assert.Equal(404, missingCode);
        Assert.Equal("serviceaccounts \"nobody\" not found", (string?)missingBody!["message"]);
    }

    [Fact]
    public async Task Service_account_kubeconfig_authenticates_as_the_service_account()
    {
        var kubeconfig = _server.ServiceAccountKubeconfig("hr", "reader");
        var token = kubeconfig.Split('\n').Single(l => l.TrimStart().StartsWith("token:", StringComparison.Ordinal)).Split(':', 2)[1].Trim();
        using var client = SecurityClients.WithToken(_server, token);

        var (code, review) = await client.PostJsonAsync("/apis/authentication.k8s.io/v1/selfsubjectreviews", new JsonObject { ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "SelfSubjectReview" });

        Assert.Equal(201, code);
        Assert.Equal("system:serviceaccount:hr:reader", (string?)review!["status"]!["userInfo"]!["username"]);
        Assert.Contains("current-context: \"system:serviceaccount:hr:reader\"", kubeconfig, StringComparison.Ordinal);
        Assert.Contains("namespace: hr", kubeconfig, StringComparison.Ordinal);
    }

    private async Task<JsonNode> ReviewAsync(string token, string? audience)
    {
        var spec = new JsonObject { ["token"] = token };
        if (audience is not null)
        {
            spec["audiences"] = new JsonArray(audience);
        }

        var (code, body) = await _admin.PostJsonAsync("/apis/authentication.k8s.io/v1/tokenreviews", new JsonObject { ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenReview", ["spec"] = spec });
        Assert.Equal(201, code);
        return body!["status"]!;
    }
}
