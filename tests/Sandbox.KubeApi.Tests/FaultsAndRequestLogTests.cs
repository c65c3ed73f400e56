using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Sandbox.KubeApi.Tests;

/// <summary>Checklist item 10 (fault injector) and the request log the operator's tests count writes with.</summary>
public sealed class FaultsAndRequestLogTests : EmulatorTest
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    [Fact]
    public async Task Conflict_on_next_writes_fails_exactly_that_many_writes_of_that_resource()
    {
        var (_, created) = await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));
        Server.Faults.ConflictOnNextWrites("configmaps", 2);

        var codes = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            var (code, body) = await Http.PatchJsonAsync(ConfigMaps + "/a", new JsonObject { ["data"] = new JsonObject { ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) } }, "application/merge-patch+json");
            codes.Add(code);
            if (code == 409)
            {
                Assert.Equal("Conflict", (string?)body!["reason"]);
            }
        }

        Assert.Equal([409, 409, 200], codes);
        Assert.NotNull(created);
    }

    [Fact]
    public async Task Next_requests_fail_with_the_given_codes_and_429_carries_retry_after()
    {
        Server.Faults.FailNextRequests(1, 429);
        Server.Faults.FailNextRequests(1, 503);

        using var first = await Http.GetAsync(ConfigMaps);
        var (second, secondBody) = await Http.GetJsonAsync(ConfigMaps);
        var (third, _) = await Http.GetJsonAsync(ConfigMaps);

        Assert.Equal(429, (int)first.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), first.Headers.RetryAfter!.Delta);
        Assert.Equal(503, second);
        Assert.Equal("ServiceUnavailable", (string?)secondBody!["reason"]);
        Assert.Equal(200, third);
    }

    [Fact]
    public async Task Failure_share_of_one_fails_every_resource_request_but_not_discovery()
    {
        Server.Faults.FailShareOfRequests(1.0, 500);

        var (resource, body) = await Http.GetJsonAsync(ConfigMaps);
        var (version, _) = await Http.GetJsonAsync("/version");
        Server.Faults.Reset();
        var (after, _) = await Http.GetJsonAsync(ConfigMaps);

        Assert.Equal(500, resource);
        Assert.Equal("InternalError", (string?)body!["reason"]);
        Assert.Equal(200, version);
        Assert.Equal(200, after);
    }

    [Fact]
    public async Task Latency_delays_answers_by_the_configured_time()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { TimeProvider = time });
        using var http = TestClients.Http(server);
        server.Faults.Latency = TimeSpan.FromSeconds(30);

        var pending = http.GetJsonAsync(ConfigMaps);
        await Eventually.True(() => Task.FromResult(server.Requests.Count == 0 && !pending.IsCompleted), what: "request waiting");
        Assert.False(pending.IsCompleted);
        await Eventually.True(() =>
        {
            time.Advance(TimeSpan.FromSeconds(31));
            return Task.FromResult(pending.IsCompleted);
        }, what: "request answered after the latency");

        Assert.Equal(200, (await pending).Code);
    }

    [Fact]
    public async Task Request_log_records_verbs_resources_codes_and_counts_writes()
    {
        await Http.PostJsonAsync(ConfigMaps, TestClients.ConfigMap("a"));
        await Http.GetJsonAsync(ConfigMaps + "/a");
        await Http.GetJsonAsync(ConfigMaps);
        await Http.GetJsonAsync(ConfigMaps + "/missing");
        await Http.PatchJsonAsync(ConfigMaps + "/a", JsonNode.Parse("""{"data":{"x":"y"}}""")!, "application/merge-patch+json");
        await Http.DeleteJsonAsync(ConfigMaps + "/a");

        var log = Server.Requests.Snapshot();

        Assert.Equal(["create", "get", "list", "get", "patch", "delete"], log.Select(e => e.Verb));
        Assert.Equal([201, 200, 200, 404, 200, 200], log.Select(e => e.StatusCode));
        Assert.Equal(3, log.Count(e => e.IsWrite));
        Assert.All(log, e => Assert.Equal("configmaps", e.Resource));
        Assert.All(log, e => Assert.Equal("default", e.Namespace));
        Assert.Equal("missing", log[3].Name);
        Server.Requests.Clear();
        Assert.Empty(Server.Requests.Snapshot());
    }

    [Fact]
    public async Task Watches_are_logged_when_they_start()
    {
        using var response = await Http.GetAsync(ConfigMaps + "?watch=true", HttpCompletionOption.ResponseHeadersRead);

        await Eventually.True(() => Task.FromResult(Server.Requests.Snapshot().Any(e => e.Verb == "watch" && e.StatusCode == 200)), what: "watch in the log");
    }

    [Fact]
    public async Task Kubeconfig_written_to_disk_names_the_loopbackServer()
    {
        var dir = Path.Combine(Path.GetTempPath(), "kubeapi-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, "nested", "kubeconfig");
            await Server.WriteKubeconfigAsync(path);
            var text = await File.ReadAllTextAsync(path);

            Assert.Equal(Server.KubeconfigYaml, text);
            Assert.Contains($"server: http://127.0.0.1:{Server.BaseAddress.Port}", text);
            Assert.Contains("current-context: sandbox", text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
