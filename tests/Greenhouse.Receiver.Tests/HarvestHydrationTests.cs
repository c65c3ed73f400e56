using System.Text;
using Greenhouse.Receiver.Tests.Support;
using Sandbox.Greenhouse;

namespace Greenhouse.Receiver.Tests;

/// <summary>The receiver in Harvest mode against the Greenhouse simulator over loopback.</summary>
public sealed class HarvestHydrationTests
{
    private static string Partial(long id, string firstName) =>
        "{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":" + id.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"first_name\":\"" + firstName + "\"}}}";

    [Fact]
    public async Task Webhook_whose_payload_lacks_fields_ends_with_the_full_Harvest_record_in_the_mirror()
    {
        await using var h = await HarvestReceiver.StartAsync();
        // Wait for the start-up full sweep, so only hydration can bring the change below.
        await Eventually.TrueAsync(async () => (await h.HealthAsync()).LastFullSweepAt is not null, "the first full sweep is done");
        var id = h.Greenhouse.CandidateIds[3];
        h.Greenhouse.UpdateCandidate(id, c =>
        {
            c["first_name"] = "Hydrated";
            c["email_addresses"] = new System.Text.Json.Nodes.JsonArray { new System.Text.Json.Nodes.JsonObject { ["value"] = "only-in-harvest@example.com", ["type"] = "work" } };
        }, WebhookSendMode.None);

        var response = await h.Receiver.SendAsync(Partial(id, "Hydrated"), "partial-1");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        await Eventually.TrueAsync(() => h.Mirror.Get(id) is { EmailAddresses: [{ Value: "only-in-harvest@example.com" }] }, "the mirror holds the Harvest record");
        Assert.True(h.MirrorMatchesGreenhouse(id));
        Assert.Contains(h.Greenhouse.Requests, r => r.PathAndQuery.Contains($"ids={id}", StringComparison.Ordinal));
        Assert.Contains("greenhouse_harvest_requests_total{operation=\"get_candidates\",status=\"200\"}", await h.Receiver.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_client_secret_reports_unauthorized_keeps_accepting_webhooks_and_hydrates_once_the_files_are_fixed()
    {
        await using var h = await HarvestReceiver.StartAsync(clientSecret: "wrong-secret");
        var id = h.Greenhouse.CandidateIds[5];

        var response = await h.Receiver.SendAsync(Partial(id, "Waiting"), "while-unauthorized");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        await Eventually.TrueAsync(async () => await h.HealthAsync() is var report && report.Harvest.Unauthorized
            && report.HydrationsPending >= 1 && report.LastHydrationError.Length > 0 && report.LastSweepError.Length > 0,
            "SyncHealth reports unauthorized, the waiting hydration and the failed start-up sweep");
        var health = await h.HealthAsync();
        Assert.False(health.Harvest.Authenticated);
        Assert.NotEmpty(health.Harvest.LastError);
        Assert.DoesNotContain("wrong-secret", health.ToString(), StringComparison.Ordinal);
        var refused = await h.Receiver.MetricsAsync();
        Assert.Contains("greenhouse_harvest_authenticated 0", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("\ngreenhouse_harvest_token_expiry_timestamp_seconds ", refused, StringComparison.Ordinal);
        Assert.Equal("Waiting", h.Mirror.Get(id)?.FirstName);

        await File.WriteAllTextAsync(Path.Combine(h.Credentials, "client_secret"), h.Greenhouse.DefaultClient.ClientSecret, Encoding.UTF8);

        await Eventually.TrueAsync(() => h.MirrorMatchesGreenhouse(id), "the stored event hydrates after the credentials are fixed");
        await Eventually.TrueAsync(async () => (await h.HealthAsync()).Harvest.Authenticated, "SyncHealth reports authenticated");
        Assert.Contains("greenhouse_harvest_authenticated 1", await h.Receiver.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_scope_is_named_in_SyncHealth_and_metrics()
    {
        await using var h = await HarvestReceiver.StartAsync();
        var client = h.Greenhouse.DefaultClient;
        h.Greenhouse.SetClient(client with { Scopes = [.. client.Scopes.Where(s => s != "harvest:candidates:list")] });
        var id = h.Greenhouse.CandidateIds[1];

        await h.Receiver.SendAsync(Partial(id, "Scoped"), "needs-scope");

        await Eventually.TrueAsync(async () => await h.HealthAsync() is var health
            && health.Harvest.MissingScopes.Contains("harvest:candidates:list")
            && health.LastHydrationError.Contains("harvest:candidates:list", StringComparison.Ordinal), "the missing scope is named");
        Assert.Contains("greenhouse_harvest_missing_scope{scope=\"harvest:candidates:list\"} 1", await h.Receiver.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_errors_and_dropped_connections_are_retried_and_nothing_is_lost()
    {
        await using var h = await HarvestReceiver.StartAsync();
        await Eventually.TrueAsync(async () => (await h.HealthAsync()).LastFullSweepAt is not null, "the first full sweep is done");
        var ids = h.Greenhouse.CandidateIds.Take(10).ToList();
        h.Greenhouse.Faults.FailNext(3);
        h.Greenhouse.Faults.DropNext(3);
        foreach (var id in ids)
        {
            h.Greenhouse.UpdateCandidate(id, c => c["title"] = "Changed", WebhookSendMode.None);
            await h.Receiver.SendAsync(Partial(id, h.Greenhouse.GetCandidate(id)!["first_name"]!.GetValue<string>()), $"fault-{id}");
        }

        await Eventually.TrueAsync(() => ids.All(id => h.Mirror.Get(id)?.Title == "Changed" && h.MirrorMatchesGreenhouse(id)), "every candidate is hydrated");
        Assert.Equal(0, (await h.HealthAsync()).HydrationsPending);
    }
}
