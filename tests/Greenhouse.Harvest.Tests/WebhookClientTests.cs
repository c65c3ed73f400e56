using Sandbox.Greenhouse;

namespace Greenhouse.Harvest.Tests;

/// <summary>HarvestWebhookClient against the simulator's partner webhook endpoints over loopback.</summary>
public sealed class WebhookClientTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public async Task Webhooks_are_created_listed_patched_and_deleted_with_the_connections_credentials()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        using var http = new HttpClient();
        var client = new HarvestWebhookClient(http, TimeProvider.System);
        var connection = Connection(simulator, "sandbox-client", "sandbox-secret");

        var created = await client.CreateAsync(connection, Request("update_candidate", Secret, "greenhouse", "pw"), CancellationToken.None);
        var listed = await client.ListAsync(connection, CancellationToken.None);
        var patched = await client.UpdateAsync(connection, created.Id, Request("update_candidate", Secret + "x", null, null), CancellationToken.None);
        var afterPatch = Assert.Single(simulator.Webhooks);
        var deleted = await client.DeleteAsync(connection, created.Id, CancellationToken.None);
        var deletedAgain = await client.DeleteAsync(connection, created.Id, CancellationToken.None);

        var webhook = Assert.Single(listed);
        Assert.Equal(created.Id, webhook.Id);
        Assert.Equal("update_candidate", webhook.EventActionType);
        Assert.Equal("https://hooks.example.com/greenhouse/acme", webhook.EndpointUrl);
        Assert.Equal("greenhouse", webhook.BasicAuthUsername);
        Assert.Equal(7, webhook.MaxAttempts);
        Assert.Equal(created.Id, patched.Id);
        Assert.Null(afterPatch.BasicAuthUsername);
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Empty(simulator.Webhooks);
        // One token for all six calls.
        Assert.Equal(1, simulator.Statistics.TokenRequests);
    }

    [Fact]
    public async Task A_credential_without_webhook_scopes_fails_with_the_missing_scope_named()
    {
        var options = new GreenhouseSimulatorOptions { CandidateCount = 1 };
        options.Clients.Add(new SimulatedClient("custom", "custom-secret", SimulatedClient.WithoutWebhookScopes));
        await using var simulator = await GreenhouseSimulator.StartAsync(options);
        using var http = new HttpClient();
        var client = new HarvestWebhookClient(http, TimeProvider.System);
        var connection = Connection(simulator, "custom", "custom-secret");

        var list = await Assert.ThrowsAsync<HarvestForbiddenException>(() => client.ListAsync(connection, CancellationToken.None));
        var create = await Assert.ThrowsAsync<HarvestForbiddenException>(() => client.CreateAsync(connection, Request("update_candidate", Secret, null, null), CancellationToken.None));
        var delete = await Assert.ThrowsAsync<HarvestForbiddenException>(() => client.DeleteAsync(connection, 1, CancellationToken.None));

        Assert.Equal(HarvestScopes.WebhooksList, list.Scope);
        Assert.Equal(HarvestScopes.WebhooksCreate, create.Scope);
        Assert.Equal(HarvestScopes.WebhooksDestroy, delete.Scope);
        Assert.Contains("harvest:webhooks:create", create.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_credentials_invalid_bodies_and_rate_limits_are_typed_and_an_expired_token_is_replaced_once()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        using var http = new HttpClient();
        var client = new HarvestWebhookClient(http, TimeProvider.System);
        var good = Connection(simulator, "sandbox-client", "sandbox-secret");

        var refused = await Assert.ThrowsAsync<HarvestUnauthorizedException>(() => client.ListAsync(Connection(simulator, "sandbox-client", "WRONG"), CancellationToken.None));
        var invalid = await Assert.ThrowsAsync<HarvestValidationException>(() => client.CreateAsync(good, Request("candidate_teleported", Secret, null, null), CancellationToken.None));
        simulator.ExpireTokens();
        var afterExpiry = await client.ListAsync(good, CancellationToken.None);
        var lastTwo = simulator.Requests.TakeLast(2).Select(r => r.Status).ToList();
        simulator.Faults.ThrottleRetryAfter = TimeSpan.FromSeconds(3);
        simulator.Faults.ThrottleNext(1);
        var throttled = await Assert.ThrowsAsync<HarvestRateLimitedException>(() => client.ListAsync(good, CancellationToken.None));

        Assert.Equal("invalid_client", refused.OAuthError);
        Assert.DoesNotContain("WRONG", refused.Message, StringComparison.Ordinal);
        Assert.Contains(invalid.Errors, e => e.Field == "event_action_type");
        Assert.Equal(TimeSpan.FromSeconds(3), throttled.RetryAfter);
        Assert.Empty(afterExpiry);
        Assert.Equal([401, 200], lastTwo);
    }

    private static HarvestConnection Connection(GreenhouseSimulator simulator, string clientId, string clientSecret) =>
        new(simulator.HarvestBaseUrl, simulator.TokenUrl, simulator.SyncUserId, clientId, clientSecret);

    private static HarvestWebhookRequest Request(string eventType, string secret, string? user, string? password) => new()
    {
        Name = "acme " + eventType,
        EndpointUrl = new Uri("https://hooks.example.com/greenhouse/acme"),
        EventActionType = eventType,
        SecretKey = secret,
        BasicAuthUsername = user,
        BasicAuthPassword = password,
    };
}
