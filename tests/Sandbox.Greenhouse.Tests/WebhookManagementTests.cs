using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.Greenhouse.Tests;

/// <summary>The simulator's partner webhook endpoints (<c>/v3/webhooks</c>): scopes, ping, delivery to the registered URL.</summary>
public sealed class WebhookManagementTests
{
    private const string Secret = "registered-secret-0123456789abcdef0123456789";
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task A_webhook_created_through_the_api_is_pinged_listed_and_gets_its_event_type_signed_with_its_secret()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        var token = await TokenAsync(simulator, "sandbox-client", "sandbox-secret");

        using var created = await SendAsync(simulator, token, HttpMethod.Post, "webhooks", new JsonObject
        {
            ["name"] = "acme update_candidate", ["endpoint_url"] = sink.Url.AbsoluteUri, ["event_action_type"] = "update_candidate",
            ["secret_key"] = Secret, ["max_attempts"] = 7, ["basic_auth_username"] = "greenhouse", ["basic_auth_password"] = "pw",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var webhook = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        var id = webhook["id"]!.GetValue<long>();
        Assert.Null(webhook["secret_key"]);
        await Eventually.TrueAsync(() => sink.Received.Count == 1, "the ping arrives");
        Assert.Equal("ping", JsonNode.Parse(sink.Received.Single().Body)!["action"]!.GetValue<string>());

        using var listed = await SendAsync(simulator, token, HttpMethod.Get, "webhooks", null);
        var list = JsonNode.Parse(await listed.Content.ReadAsStringAsync())!.AsArray();
        var only = Assert.Single(list);
        Assert.Equal(id, only!["id"]!.GetValue<long>());
        Assert.Equal(sink.Url.AbsoluteUri, only["endpoint_url"]!.GetValue<string>());
        Assert.Equal("update_candidate", only["event_action_type"]!.GetValue<string>());
        Assert.Equal("greenhouse", only["basic_auth_username"]!.GetValue<string>());

        simulator.UpdateCandidate(simulator.CandidateIds[0], c => c["company"] = "Initech");
        simulator.DeleteCandidate(simulator.CandidateIds[1]);
        await Eventually.TrueAsync(() => sink.Received.Count == 2, "the update_candidate event arrives");
        var received = sink.Received.ToArray();
        Assert.Equal("update_candidate", JsonNode.Parse(received[1].Body)!["action"]!.GetValue<string>());
        Assert.All(received, r => Assert.Equal("sha256 " + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), r.Body)), r.Signature));
        Assert.All(received, r => Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("greenhouse:pw")), r.Authorization));
        var delivery = Assert.Single(simulator.WebhookDeliveries, d => d.Action == "update_candidate");
        Assert.Equal(sink.Url, delivery.Endpoint);
        Assert.Equal(id, delivery.WebhookId);
        Assert.DoesNotContain(simulator.WebhookDeliveries, d => d.Action == "delete_candidate");
    }

    [Fact]
    public async Task Patching_the_secret_pings_again_and_later_events_are_signed_with_the_new_one_and_delete_stops_them()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        var token = await TokenAsync(simulator, "sandbox-client", "sandbox-secret");
        using var created = await SendAsync(simulator, token, HttpMethod.Post, "webhooks", Body(sink.Url, Secret));
        var id = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();
        await Eventually.TrueAsync(() => sink.Received.Count == 1, "the first ping arrives");

        const string rotated = "rotated-secret-abcdef0123456789abcdef0123456789";
        using var patched = await SendAsync(simulator, token, HttpMethod.Patch, $"webhooks/{id}", new JsonObject { ["secret_key"] = rotated });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        await Eventually.TrueAsync(() => sink.Received.Count == 2, "the update's ping arrives");
        simulator.UpdateCandidate(simulator.CandidateIds[0], c => c["title"] = "CTO");
        await Eventually.TrueAsync(() => sink.Received.Count == 3, "the event arrives");
        var received = sink.Received.ToArray();
        Assert.Equal("ping", JsonNode.Parse(received[1].Body)!["action"]!.GetValue<string>());
        Assert.Equal("sha256 " + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(rotated), received[2].Body)), received[2].Signature);

        using var deleted = await SendAsync(simulator, token, HttpMethod.Delete, $"webhooks/{id}", null);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        using var again = await SendAsync(simulator, token, HttpMethod.Delete, $"webhooks/{id}", null);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        simulator.UpdateCandidate(simulator.CandidateIds[0], c => c["title"] = "CEO");
        Assert.Empty(simulator.Webhooks);
        Assert.Single(simulator.WebhookDeliveries, d => d.Action == "update_candidate");
    }

    [Fact]
    public async Task A_client_without_webhook_scopes_is_refused_with_the_scope_named_and_bad_bodies_are_422()
    {
        var options = new GreenhouseSimulatorOptions { CandidateCount = 1 };
        options.Clients.Add(new SimulatedClient("custom", "custom-secret", SimulatedClient.WithoutWebhookScopes));
        options.Clients.Add(new SimulatedClient("partner", "partner-secret", SimulatedClient.AllScopes));
        await using var simulator = await GreenhouseSimulator.StartAsync(options);
        var custom = await TokenAsync(simulator, "custom", "custom-secret");
        var partner = await TokenAsync(simulator, "partner", "partner-secret");

        using var refused = await SendAsync(simulator, custom, HttpMethod.Post, "webhooks", Body(new Uri("https://hooks.example.com/x"), Secret));
        using var refusedList = await SendAsync(simulator, custom, HttpMethod.Get, "webhooks", null);
        using var invalid = await SendAsync(simulator, partner, HttpMethod.Post, "webhooks", new JsonObject { ["name"] = "x", ["endpoint_url"] = "https://hooks.example.com/x", ["event_action_type"] = "candidate_teleported", ["secret_key"] = Secret });
        using var missing = await SendAsync(simulator, partner, HttpMethod.Patch, "webhooks/424242", new JsonObject { ["secret_key"] = Secret });

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("harvest:webhooks:create", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("harvest:webhooks:list", await refusedList.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        var errors = await invalid.Content.ReadAsStringAsync();
        Assert.Contains("event_action_type", errors, StringComparison.Ordinal);
        Assert.Contains("max_attempts", errors, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(simulator.Webhooks);
    }

    [Fact]
    public async Task The_endpoint_resolver_routes_attempts_while_the_delivery_log_keeps_the_registered_url()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 2 });
        var registered = new Uri("https://hooks.example.com/greenhouse/acme");
        simulator.WebhookEndpointResolver = (uri, _) => ValueTask.FromResult<Uri?>(uri.Host == "hooks.example.com" ? new Uri(sink.Url, uri.AbsolutePath) : null);
        var token = await TokenAsync(simulator, "sandbox-client", "sandbox-secret");
        using var created = await SendAsync(simulator, token, HttpMethod.Post, "webhooks", Body(registered, Secret));

        simulator.UpdateCandidate(simulator.CandidateIds[0], c => c["company"] = "Hooli");
        await Eventually.TrueAsync(() => simulator.WebhookDeliveries.Count(d => d.State == WebhookDeliveryState.Delivered) == 2, "ping and event delivered");

        Assert.All(simulator.WebhookDeliveries, d => Assert.Equal(registered, d.Endpoint));
        Assert.All(simulator.WebhookDeliveries, d => Assert.Equal(new Uri(sink.Url, "/greenhouse/acme"), d.DeliveredTo));
    }

    private static JsonObject Body(Uri url, string secret) => new()
    {
        ["name"] = "test", ["endpoint_url"] = url.AbsoluteUri, ["event_action_type"] = "update_candidate", ["secret_key"] = secret, ["max_attempts"] = 7,
    };

    private static async Task<HttpResponseMessage> SendAsync(GreenhouseSimulator simulator, string token, HttpMethod method, string path, JsonObject? body)
    {
        using var request = new HttpRequestMessage(method, new Uri(simulator.HarvestBaseUrl.AbsoluteUri.TrimEnd('/') + "/" + path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return await Http.SendAsync(request);
    }

    private static async Task<string> TokenAsync(GreenhouseSimulator simulator, string clientId, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, simulator.TokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["sub"] = simulator.SyncUserId.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
    }
}
