using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Greenhouse.Tests;

public sealed class WebhookSimulatorTests
{
    private const string Secret = "webhook-secret-for-tests";

    [Fact]
    public async Task Saving_a_webhook_sends_a_signed_ping_first_and_then_signed_events()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 5 });

        var enabled = await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));
        var candidate = simulator.CandidateIds[0];
        simulator.UpdateCandidate(candidate, c => c["company"] = "Initech");
        await Eventually.TrueAsync(() => sink.Received.Count == 2, "ping and event received");

        Assert.True(enabled);
        var received = sink.Received.ToArray();
        Assert.Equal("ping", JsonNode.Parse(received[0].Body)!["action"]!.GetValue<string>());
        var update = JsonNode.Parse(received[1].Body)!;
        Assert.Equal("update_candidate", update["action"]!.GetValue<string>());
        Assert.Equal(candidate, update["payload"]!["candidate"]!["id"]!.GetValue<long>());
        Assert.Equal("Initech", update["payload"]!["candidate"]!["company"]!.GetValue<string>());
        foreach (var webhook in received)
        {
            Assert.Equal("sha256 " + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), webhook.Body)), webhook.Signature);
            Assert.True(Guid.TryParse(webhook.EventId, out _));
            Assert.Equal("application/json", webhook.ContentType);
        }
    }

    [Fact]
    public async Task Event_bodies_escape_non_ascii_and_html_characters_like_greenhouse()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));

        simulator.UpdateCandidate(simulator.CandidateIds[0], c => c["title"] = "Ingénieure <R&D>");
        await Eventually.TrueAsync(() => sink.Received.Count == 2, "event received");

        var raw = sink.Received.Last().Text;
        Assert.Contains("Ing\\u00e9nieure \\u003cR\\u0026D\\u003e", raw, StringComparison.Ordinal);
        Assert.True(raw.All(c => c < 0x80), "the body is pure ASCII");
        Assert.Equal("Ingénieure <R&D>", JsonNode.Parse(raw)!["payload"]!["candidate"]!["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Failed_deliveries_are_retried_with_the_same_event_id_until_one_succeeds()
    {
        // The ping and the first two event attempts fail... except the ping must pass to enable the webhook.
        await using var sink = await WebhookSink.StartAsync(attempt => attempt is 2 or 3 ? 503 : 200);
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1, WebhookRetryTimeScale = 0.0001 });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));

        simulator.SendCandidateUpdated(simulator.CandidateIds[0]);
        await Eventually.TrueAsync(() => simulator.WebhookDeliveries.Any(d => d.Action == "update_candidate" && d.State == WebhookDeliveryState.Delivered), "delivered after retries");

        var attempts = sink.Received.Skip(1).ToArray();
        Assert.Equal(3, attempts.Length);
        Assert.Single(attempts.Select(a => a.EventId).Distinct());
        Assert.Equal(3, simulator.WebhookDeliveries.Single(d => d.Action == "update_candidate").Attempts);
    }

    [Fact]
    public async Task A_delivery_that_never_succeeds_stops_after_seven_attempts()
    {
        await using var sink = await WebhookSink.StartAsync(attempt => attempt == 1 ? 200 : 500);
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1, WebhookRetryTimeScale = 0.00001 });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));

        simulator.SendCandidateUpdated(simulator.CandidateIds[0]);
        await Eventually.TrueAsync(() => simulator.WebhookDeliveries.Any(d => d.State == WebhookDeliveryState.Failed), "gave up");

        Assert.Equal(7, simulator.WebhookDeliveries.Single(d => d.Action == "update_candidate").Attempts);
        Assert.Equal(8, sink.Received.Count);
    }

    [Fact]
    public async Task A_dropped_delivery_is_never_sent_while_later_ones_are()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 2 });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));
        simulator.DropNextWebhooks(1);

        var dropped = simulator.UpdateCandidate(simulator.CandidateIds[0], c => c["title"] = "Lost");
        var sent = simulator.DeleteCandidate(simulator.CandidateIds[1]);
        await Eventually.TrueAsync(() => sink.Received.Count == 2, "second event received");

        Assert.Equal(WebhookDeliveryState.Dropped, Assert.Single(dropped).State);
        Assert.Equal("delete_candidate", JsonNode.Parse(sink.Received.Last().Body)!["action"]!.GetValue<string>());
        Assert.DoesNotContain(sink.Received, r => r.EventId == dropped[0].EventId);
        Assert.Equal(sent[0].EventId, sink.Received.Last().EventId);
    }

    [Fact]
    public async Task A_webhook_whose_ping_fails_stays_disabled_and_gets_no_events()
    {
        await using var sink = await WebhookSink.StartAsync(_ => 401);
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });

        var enabled = await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));
        var deliveries = simulator.SendCandidateUpdated(simulator.CandidateIds[0]);

        Assert.False(enabled);
        Assert.Empty(deliveries);
        Assert.Single(sink.Received);
    }

    [Fact]
    public async Task Basic_auth_and_event_filter_of_the_registration_are_honoured()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 2 });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret, Events: ["delete_candidate"], BasicAuthUsername: "greenhouse", BasicAuthPassword: "pa55"));

        var filtered = simulator.UpdateCandidate(simulator.CandidateIds[0], c => c["title"] = "Ignored");
        simulator.DeleteCandidate(simulator.CandidateIds[1]);
        await Eventually.TrueAsync(() => sink.Received.Count == 2, "delete received");

        Assert.Empty(filtered);
        Assert.All(sink.Received, r => Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("greenhouse:pa55")), r.Authorization));
    }

    [Fact]
    public async Task Retries_follow_the_greenhouse_schedule_on_the_simulator_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync(attempt => attempt == 2 ? 500 : 200);
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1, TimeProvider = time });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));

        simulator.SendCandidateUpdated(simulator.CandidateIds[0]);
        await Eventually.TrueAsync(() => simulator.WebhookDeliveries.Any(d => d.NextAttemptAt is not null), "first attempt failed and a retry is scheduled");
        Assert.Equal(time.GetUtcNow().AddMinutes(1), simulator.WebhookDeliveries.Single(d => d.Action == "update_candidate").NextAttemptAt);
        time.Advance(TimeSpan.FromSeconds(59));
        var beforeOneMinute = simulator.WebhookDeliveries.Single(d => d.Action == "update_candidate");
        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => sink.Received.Count == 3, "retried after one minute");

        Assert.Equal(1, beforeOneMinute.Attempts);
        Assert.Equal(WebhookDeliveryState.Pending, beforeOneMinute.State);
        await Eventually.TrueAsync(() => simulator.WebhookDeliveries.Single(d => d.Action == "update_candidate").State == WebhookDeliveryState.Delivered, "delivered");
    }

    [WebhookExamplesFact(nameof(Saving_a_webhook_sends_a_signed_ping_first_and_then_signed_events), nameof(Event_bodies_escape_non_ascii_and_html_characters_like_greenhouse))]
    public async Task Greenhouse_example_payloads_are_delivered_signed_and_unchanged_in_meaning()
    {
        var files = Directory.GetFiles(RepositoryPaths.WebhookExamples!, "*.json").Order(StringComparer.Ordinal).ToArray();
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));

        foreach (var file in files)
        {
            simulator.SendWebhook(JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject());
        }

        await Eventually.TrueAsync(() => sink.Received.Count == files.Length + 1, "every example delivered");
        var received = sink.Received.Skip(1).ToDictionary(r => JsonNode.Parse(r.Body)!["action"]!.GetValue<string>());
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var original = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
            var delivered = received[original["action"]!.GetValue<string>()];
            Assert.True(JsonNode.DeepEquals(original, JsonNode.Parse(delivered.Body)), $"{Path.GetFileName(file)} arrives with the same content");
            Assert.Equal("sha256 " + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), delivered.Body)), delivered.Signature);
            Assert.True(delivered.Body.All(b => b < 0x80), $"{Path.GetFileName(file)} is sent as escaped ASCII");
        }
    }

    [Fact]
    public async Task Merge_fires_only_merge_candidate_in_the_documented_shape_and_moves_the_loser_into_the_winner()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 2 });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));
        var (loser, winner) = (simulator.CandidateIds[0], simulator.CandidateIds[1]);
        var loserEmail = simulator.GetCandidate(loser)!["email_addresses"]![0]!["value"]!.GetValue<string>();
        var loserApplications = simulator.GetApplications(loser).Count;
        var winnerApplications = simulator.GetApplications(winner).Count;

        simulator.MergeCandidates(loser, winner);
        await Eventually.TrueAsync(() => sink.Received.Count == 2, "ping and merge received");

        var merge = JsonNode.Parse(sink.Received.Last().Body)!;
        Assert.Equal("merge_candidate", merge["action"]!.GetValue<string>());
        var person = merge["payload"]!["person"]!;
        Assert.Equal(loser, person["id"]!.GetValue<long>());
        Assert.Equal(winner, person["new_candidate_id"]!.GetValue<long>());
        Assert.Null(merge["payload"]!["new_candidate_id"]);
        Assert.Null(simulator.GetCandidate(loser));
        Assert.Contains(loserEmail, simulator.GetCandidate(winner)!["email_addresses"]!.AsArray().Select(e => e!["value"]!.GetValue<string>()));
        Assert.Equal(loserApplications + winnerApplications, simulator.GetApplications(winner).Count);
    }

    [Fact]
    public async Task Anonymisation_follows_the_documented_table_and_fires_candidate_anonymized()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 2 });
        await simulator.RegisterWebhookAsync(new WebhookRegistration(sink.Url, Secret));
        var (first, second) = (simulator.CandidateIds[0], simulator.CandidateIds[1]);

        simulator.AnonymizeCandidate(first, ["full_name", "email_addresses"]);
        simulator.AnonymizeCandidate(second, ["emails"]);
        await Eventually.TrueAsync(() => sink.Received.Count == 3, "ping and two events received");

        var anonymised = simulator.GetCandidate(first)!;
        Assert.Equal(("Anonymized", first.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (anonymised["first_name"]!.GetValue<string>(), anonymised["last_name"]!.GetValue<string>()));
        Assert.Empty(anonymised["email_addresses"]!.AsArray());
        Assert.NotEmpty(simulator.GetCandidate(second)!["email_addresses"]!.AsArray());
        // Each event is its own delivery, sent concurrently (Greenhouse promises no order either): the
        // two events are told apart by their candidate, not by when they arrived.
        var events = sink.Received.Skip(1).Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.All(events, e => Assert.Equal("candidate_anonymized", e["action"]!.GetValue<string>()));
        Assert.Equal(new[] { first, second }.Order(), events.Select(e => e["payload"]!["candidate_id"]!.GetValue<long>()).Order());
        var body = events.Single(e => e["payload"]!["candidate_id"]!.GetValue<long>() == first);
        Assert.Equal(["full_name", "email_addresses"], body["payload"]!["anonymized_fields"]!.AsArray().Select(f => f!.GetValue<string>()));
    }
}
