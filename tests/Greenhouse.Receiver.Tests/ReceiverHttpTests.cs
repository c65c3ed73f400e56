using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Receiver.Tests.Support;
using Grpc.Core;

namespace Greenhouse.Receiver.Tests;

/// <summary>The receiver started in-process on 127.0.0.1 free ports, called over HTTP and gRPC.</summary>
public sealed class ReceiverHttpTests : IAsyncLifetime
{
    private TestReceiver _r = null!;

    public async Task InitializeAsync() => _r = await TestReceiver.StartAsync(["--Webhook:MaxBodyBytes=65536"]);

    public async Task DisposeAsync() => await _r.DisposeAsync();

    private static async Task<string> ResultOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("result").GetString()!;

    private async Task WaitProcessedAsync(long count) =>
        await Eventually.TrueAsync(async () => (await _r.Health.GetSyncHealthAsync(new GetSyncHealthRequest())).EventsProcessed >= count, $"{count} events are processed");

    [WebhookExamplesFact(nameof(Unicode_escaped_body_is_accepted_and_unescaped_in_the_mirror), nameof(Same_event_id_twice_is_200_duplicate_and_processed_once), nameof(Json_transcoding_serves_lookup_get_list_and_health_over_http))]
    public async Task Every_shared_example_is_accepted_when_signed_and_applied_to_the_mirror()
    {
        var files = Directory.GetFiles(RepositoryPaths.WebhookExamples!, "*.json");
        foreach (var file in files)
        {
            using var response = await _r.SendAsync(await File.ReadAllBytesAsync(file), Path.GetFileNameWithoutExtension(file));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{Path.GetFileName(file)}: {response.StatusCode}");
            Assert.Equal("accepted", await ResultOf(response));
        }
        await WaitProcessedAsync(files.Length);

        var health = await _r.Health.GetSyncHealthAsync(new GetSyncHealthRequest());
        Assert.Equal(files.Length, health.EventsAccepted);
        Assert.Equal(0, health.DeadLetters);
        Assert.Equal(0, health.PendingEvents);

        // update_candidate.json and new_candidate_application.json name these candidates and addresses.
        var ronald = await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 15696179 });
        Assert.Equal("Ronald", ronald.FirstName);
        var lookup = await _r.Candidates.LookupAsync(new LookupCandidatesRequest { Email = { "PERSON@example.com" }, ProfileUrl = { "https://www.mysite.com/" } });
        Assert.Equal(2, lookup.Matches.Count);
        Assert.All(lookup.Matches, m => Assert.Equal(60304594, m.Candidate.Id));
        Assert.Equal("url:mysite.com", lookup.Matches[1].MatchedKey);
    }

    [Fact]
    public async Task Changed_byte_or_other_secret_is_rejected_with_401_and_counted()
    {
        var body = Encoding.UTF8.GetBytes(ProcessorHarness.Update(1, "a@example.com"));
        var signature = Greenhouse.Receiver.Webhooks.WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(TestReceiver.Secret));
        var tampered = (byte[])body.Clone();
        tampered[10] ^= 0x20;
        using (var response = await _r.SendAsync(tampered, "t1", signature: signature))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        using (var response = await _r.SendAsync(body, "t2", secret: "some-other-secret"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        using (var response = await _r.SendAsync(body, "t3", signature: ""))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.Contains("""greenhouse_webhooks_received_total{action="unknown",result="rejected_signature"} 3""", await _r.MetricsAsync());
        Assert.Equal(0, (await _r.Health.GetSyncHealthAsync(new GetSyncHealthRequest())).EventsAccepted);
    }

    [Fact]
    public async Task Same_event_id_twice_is_200_duplicate_and_processed_once()
    {
        var body = ProcessorHarness.Update(42, "dup@example.com");
        using (var first = await _r.SendAsync(body, "same-id"))
        {
            Assert.Equal("accepted", await ResultOf(first));
        }
        using (var second = await _r.SendAsync(body, "same-id"))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal("duplicate", await ResultOf(second));
        }
        await WaitProcessedAsync(1);
        var candidate = await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 42 });
        Assert.Equal(1, candidate.ChangeNumber);
        var metrics = await _r.MetricsAsync();
        Assert.Contains("""greenhouse_webhooks_received_total{action="update_candidate",result="duplicate"} 1""", metrics);
        Assert.Contains("""greenhouse_events_processed_total{action="update_candidate",outcome="applied"} 1""", metrics);
    }

    [Fact]
    public async Task Missing_event_id_dedupes_on_the_body_hash()
    {
        var body = ProcessorHarness.Update(43, "hash@example.com");
        using (var first = await _r.SendAsync(body))
        {
            Assert.Equal("accepted", await ResultOf(first));
        }
        using var second = await _r.SendAsync(body);
        Assert.Equal("duplicate", await ResultOf(second));
    }

    [Fact]
    public async Task Unicode_escaped_body_is_accepted_and_unescaped_in_the_mirror()
    {
        var body = "{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":44,\"company\":\"\\u003cb\\u003eAcme\\u003c/b\\u003e \\u00e9\"}}}";
        using var response = await _r.SendAsync(body, "u1");
        Assert.Equal("accepted", await ResultOf(response));
        await WaitProcessedAsync(1);
        Assert.Equal("<b>Acme</b> é", (await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 44 })).Company);
    }

    [Fact]
    public async Task Group_commits_and_fsync_cycles_are_measured()
    {
        var before = await _r.MetricsAsync();
        Assert.Contains("greenhouse_inbox_fsync_seconds_count 0", before, StringComparison.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            using var response = await _r.SendAsync(ProcessorHarness.Update(900 + i, $"m{i}@example.com"), $"metrics-{i}");
            Assert.Equal("accepted", await ResultOf(response));
        }
        var metrics = await _r.MetricsAsync();
        // Three deliveries sent one after the other: each answered only after a commit and an fsync cycle of its own.
        Assert.True(MetricValue(metrics, "greenhouse_inbox_commit_seconds_count") >= 3, metrics);
        Assert.True(MetricValue(metrics, "greenhouse_inbox_fsync_seconds_count") >= 3, metrics);
        Assert.Equal(3, MetricValue(metrics, "greenhouse_inbox_commit_deliveries_sum"));
        Assert.True(MetricValue(metrics, "greenhouse_inbox_fsync_seconds_sum") > 0, metrics);
    }

    private static double MetricValue(string metrics, string name) =>
        double.Parse(metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Bad_requests_get_their_status_codes_and_are_counted()
    {
        using (var malformed = await _r.SendAsync("{not json", "m1"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }
        using (var noAction = await _r.SendAsync("""{"payload":{}}""", "m2"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noAction.StatusCode);
        }
        using (var tooLarge = await _r.SendAsync("{\"action\":\"update_candidate\",\"pad\":\"" + new string('x', 70_000) + "\"}", "big"))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        }
        var request = TestReceiver.Signed("{}"u8.ToArray(), "ct", TestReceiver.Secret);
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        using (var wrongType = await _r.Public.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        }
        using (var get = await _r.Public.GetAsync("/webhooks/greenhouse"))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        }
        var metrics = await _r.MetricsAsync();
        Assert.Contains("""greenhouse_webhooks_received_total{action="unknown",result="rejected_malformed"} 4""", metrics);
        Assert.Contains("""greenhouse_webhooks_received_total{action="unknown",result="rejected_too_large"} 1""", metrics);
        Assert.DoesNotContain("result=\"accepted\"", metrics);
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_rejected_with_413()
    {
        var body = Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"pad\":\"" + new string('x', 70_000) + "\"}");
        var request = TestReceiver.Signed(body, "chunked", TestReceiver.Secret);
        request.Content = new StreamContent(new MemoryStream(body));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await _r.Public.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Ping_and_unknown_actions_are_200_ignored_under_bounded_labels()
    {
        using (var ping = await _r.SendAsync("""{"action":"ping","payload":{"web_hook_id":1}}""", "p1"))
        {
            Assert.Equal("ignored", await ResultOf(ping));
        }
        using (var future = await _r.SendAsync("""{"action":"brand_new_action_2031","payload":{}}""", "f1"))
        {
            Assert.Equal(HttpStatusCode.OK, future.StatusCode);
            Assert.Equal("ignored", await ResultOf(future));
        }
        var metrics = await _r.MetricsAsync();
        Assert.Contains("""greenhouse_webhooks_received_total{action="ping",result="ignored"} 1""", metrics);
        Assert.Contains("""greenhouse_webhooks_received_total{action="unknown",result="ignored"} 1""", metrics);
        Assert.DoesNotContain("brand_new_action_2031", metrics);
    }

    [Fact]
    public async Task Public_listener_serves_only_the_webhook_and_probes()
    {
        Assert.Equal(HttpStatusCode.OK, (await _r.Public.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _r.Public.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _r.Public.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _r.Public.GetAsync("/v1/health/sync")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _r.Api.GetAsync("/healthz")).StatusCode);
        using var onApiPort = await _r.Api.SendAsync(TestReceiver.Signed("""{"action":"ping"}"""u8.ToArray(), "x", TestReceiver.Secret));
        Assert.Equal(HttpStatusCode.NotFound, onApiPort.StatusCode);
    }

    [Fact]
    public async Task Json_transcoding_serves_lookup_get_list_and_health_over_http()
    {
        await _r.SendAsync(ProcessorHarness.Update(7, "Seven@Example.com", "Seven"), "h1");
        await WaitProcessedAsync(1);
        var lookup = JsonDocument.Parse(await _r.Api.GetStringAsync("/v1/candidates:lookup?email=seven@example.COM")).RootElement;
        Assert.Equal(7, lookup.GetProperty("matches")[0].GetProperty("candidate").GetProperty("id").GetInt64());
        Assert.Equal("email:seven@example.com", lookup.GetProperty("matches")[0].GetProperty("matchedKey").GetString());
        var candidate = JsonDocument.Parse(await _r.Api.GetStringAsync("/v1/candidates/7")).RootElement;
        Assert.Equal("Seven", candidate.GetProperty("firstName").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _r.Api.GetAsync("/v1/candidates/8")).StatusCode);
        var list = JsonDocument.Parse(await _r.Api.GetStringAsync("/v1/candidates?pageSize=10")).RootElement;
        Assert.Equal(1, list.GetProperty("candidates").GetArrayLength());
        var health = JsonDocument.Parse(await _r.Api.GetStringAsync("/v1/health/sync")).RootElement;
        Assert.Equal("SECRET_SLOT_CURRENT", health.GetProperty("lastVerifiedSlot").GetString());
    }

    [Fact]
    public async Task List_pages_through_candidates_in_id_order()
    {
        for (var id = 1; id <= 5; id++)
        {
            await _r.SendAsync(ProcessorHarness.Update(id, $"p{id}@example.com"), $"l{id}");
        }
        await WaitProcessedAsync(5);
        var ids = new List<long>();
        var token = "";
        do
        {
            var page = await _r.Candidates.ListAsync(new ListCandidatesRequest { PageSize = 2, PageToken = token });
            ids.AddRange(page.Candidates.Select(c => c.Id));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], ids);
    }

    [Fact]
    public async Task WatchChanges_replays_from_a_change_number_then_streams_live_changes()
    {
        await _r.SendAsync(ProcessorHarness.Update(1, "w1@example.com"), "w1");
        await _r.SendAsync(ProcessorHarness.Update(2, "w2@example.com"), "w2");
        await WaitProcessedAsync(2);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = _r.Candidates.WatchChanges(new WatchChangesRequest { AfterChangeNumber = 1 }, cancellationToken: timeout.Token);
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        Assert.Equal((2L, 2L), (call.ResponseStream.Current.ChangeNumber, call.ResponseStream.Current.CandidateId));

        await _r.SendAsync("""{"action":"delete_candidate","payload":{"person":{"id":1}}}""", "w3");
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        var live = call.ResponseStream.Current;
        Assert.Equal((3L, 1L, ChangeKind.Deleted), (live.ChangeNumber, live.CandidateId, live.Kind));
    }

    [Fact]
    public async Task Get_of_a_merged_candidate_returns_the_survivor()
    {
        await _r.SendAsync(ProcessorHarness.Update(1, "loser@example.com"), "g1");
        await _r.SendAsync(ProcessorHarness.Update(2, "survivor@example.com"), "g2");
        await _r.SendAsync("""{"action":"merge_candidate","payload":{"person":{"id":1,"new_candidate_id":2}}}""", "g3");
        await WaitProcessedAsync(3);
        var survivor = await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 1 });
        Assert.Equal(2, survivor.Id);
        Assert.Contains(1L, survivor.MergedCandidateIds);
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 99 }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }
}
