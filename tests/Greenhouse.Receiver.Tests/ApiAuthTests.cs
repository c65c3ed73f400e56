using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Receiver.Api.Auth;
using Greenhouse.Receiver.Tests.Support;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Tests;

/// <summary>Who may call the gRPC and JSON APIs: Kubernetes ServiceAccount tokens checked offline against a test issuer on 127.0.0.1.</summary>
public sealed class ApiAuthTests : IAsyncLifetime
{
    private const string Audience = "greenhouse-receiver/team-a/acme";
    private readonly CapturedLogs _logs = new();
    private TestTokenIssuer _issuer = null!;
    private TestReceiver _r = null!;

    public async Task InitializeAsync()
    {
        _issuer = await TestTokenIssuer.StartAsync();
        _r = await TestReceiver.StartAsync(AuthArgs(_issuer.Url), services => services.AddSingleton<ILoggerProvider>(_logs));
        using var stored = await _r.SendAsync(ProcessorHarness.Update(77, "auth@example.com", "Ada"), "auth-1");
        await Eventually.TrueAsync(() => _r.Services.GetRequiredService<Mirror.CandidateMirror>().Get(77) is not null, "the candidate is in the mirror");
    }

    public async Task DisposeAsync()
    {
        await _r.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    private static string[] AuthArgs(Uri apiServer) =>
    [
        "--Api:Auth:Mode=KubernetesServiceAccount",
        $"--Api:Auth:ApiServer={apiServer}",
        $"--Api:Auth:Audience={Audience}",
        "--Api:Clients:0:ServiceAccount:Namespace=crm",
        "--Api:Clients:0:ServiceAccount:Name=crm-sync",
        "--Api:Clients:0:Scopes:0=read",
        "--Api:Clients:1:ServiceAccount:Namespace=crm",
        "--Api:Clients:1:ServiceAccount:Name=crm-watcher",
        "--Api:Clients:1:Scopes=read,watch",
        "--Logging:LogLevel:Greenhouse.Receiver.Api.Auth=Information",
    ];

    private async Task<HttpStatusCode> GetAsync(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await _r.Api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return response.StatusCode;
    }

    [Fact]
    public async Task Json_api_answers_401_without_a_valid_token_403_outside_spec_api_clients_and_200_for_a_granted_read()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/v1/candidates/77", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/v1/candidates/77", "not-a-jwt"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/v1/candidates/77", _issuer.Mint("crm", "crm-sync", "some-other-receiver")));
        using (var otherKey = RSA.Create(2048))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/v1/candidates/77", _issuer.Mint("crm", "crm-sync", Audience, signWith: otherKey)));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/v1/candidates/77", _issuer.Mint("crm", "crm-sync", Audience, issuedAt: DateTimeOffset.UtcNow.AddHours(-2))));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/v1/candidates/77", _issuer.Mint("crm", "crm-sync", Audience, issuer: "https://other-cluster.example")));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/v1/candidates/77", _issuer.Mint("crm", "crm-sync", Audience, lifetime: TimeSpan.FromDays(365))));

        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync("/v1/candidates/77", _issuer.Mint("monitoring", "prometheus", Audience)));
        var reader = _issuer.Mint("crm", "crm-sync", Audience);
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/v1/candidates/77", reader));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/v1/candidates:lookup?email=auth@example.com", reader));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/v1/health/sync", reader));
        // Watching the whole change stream is its own scope.
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync("/v1/candidates:watch?afterChangeNumber=0", reader));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/v1/candidates:watch?afterChangeNumber=0", _issuer.Mint("crm", "crm-watcher", Audience)));
    }

    [Fact]
    public async Task Metrics_probes_and_sync_health_need_no_token()
    {
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/metrics", null));
        // Counters and times only, polled by the operator without a token of its own.
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/v1/health/sync", null));
        Assert.True(ApiAuthorizationInterceptor.IsOpen("/greenhouse.receiver.v1.SyncHealth/GetSyncHealth"));
        Assert.False(ApiAuthorizationInterceptor.IsOpen("/greenhouse.receiver.v1.Candidates/Get"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/v1/integration", null));
        using var health = await _r.Public.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var ready = await _r.Public.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Grpc_answers_unauthenticated_and_permission_denied_with_standard_status_codes()
    {
        var request = new GetCandidateRequest { Id = 77 };
        var none = await Assert.ThrowsAsync<RpcException>(async () => await _r.Candidates.GetAsync(request));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);

        var stranger = new Metadata { { "authorization", "Bearer " + _issuer.Mint("default", "default", Audience) } };
        var denied = await Assert.ThrowsAsync<RpcException>(async () => await _r.Candidates.GetAsync(request, stranger));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        var granted = new Metadata { { "authorization", "Bearer " + _issuer.Mint("crm", "crm-sync", Audience) } };
        Assert.Equal("Ada", (await _r.Candidates.GetAsync(request, granted)).FirstName);
    }

    [Fact]
    public async Task Bulk_reads_are_audited_naming_the_caller_and_never_the_data_and_the_token_is_never_logged()
    {
        var token = _issuer.Mint("crm", "crm-sync", Audience);
        var granted = new Metadata { { "authorization", "Bearer " + token } };
        var page = await _r.Candidates.ListAsync(new ListCandidatesRequest { PageSize = 10 }, granted);
        Assert.Single(page.Candidates);
        await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 77 }, granted);

        var audit = Assert.Single(_logs.Lines, l => l.StartsWith("Audit:", StringComparison.Ordinal));
        Assert.Equal("Audit: system:serviceaccount:crm:crm-sync called /greenhouse.receiver.v1.Candidates/List", audit);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("auth@example.com", StringComparison.Ordinal) || l.Contains("Ada", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(token.Split('.')[2], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unreachable_issuer_keys_make_calls_unavailable_not_unauthenticated()
    {
        await using var receiver = await TestReceiver.StartAsync(AuthArgs(new Uri($"http://127.0.0.1:{FreePort.Next()}")));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/candidates/77");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _issuer.Mint("crm", "crm-sync", Audience));
        using var response = await receiver.Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Theory]
    [InlineData("/greenhouse.receiver.v1.Candidates/Get", ApiScope.Read, false)]
    [InlineData("/greenhouse.receiver.v1.Candidates/Lookup", ApiScope.Read, false)]
    [InlineData("/greenhouse.receiver.v1.Candidates/List", ApiScope.Read, true)]
    [InlineData("/greenhouse.receiver.v1.Candidates/WatchChanges", ApiScope.Watch, true)]
    [InlineData("/greenhouse.receiver.v1.Integration/Get", ApiScope.Read, false)]
    [InlineData("/greenhouse.receiver.v1.Writeback/AddNote", ApiScope.Writeback, true)]
    public void Each_method_needs_its_scope(string method, ApiScope scope, bool audited) =>
        Assert.Equal((scope, audited), ApiAuthorizationInterceptor.Requirement(method));

    [Fact]
    public void Methods_of_unknown_services_need_a_scope_nobody_has() =>
        Assert.Null(ApiAuthorizationInterceptor.Requirement("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
}
