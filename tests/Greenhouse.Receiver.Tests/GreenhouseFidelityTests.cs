using System.Net;
using System.Text;
using System.Text.Json;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Receiver.Tests.Support;
using Greenhouse.Receiver.Webhooks;
using Grpc.Core;

namespace Greenhouse.Receiver.Tests;

/// <summary>Webhooks exactly as Greenhouse documents them, pings, and hostile bodies, against the receiver in-process.</summary>
public sealed class GreenhouseFidelityTests : IAsyncLifetime
{
    private TestReceiver _r = null!;

    public async Task InitializeAsync() => _r = await TestReceiver.StartAsync(["--Processing:RetryBaseDelay=00:01:00"]);

    public async Task DisposeAsync() => await _r.DisposeAsync();

    private static async Task<string> ResultOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("result").GetString()!;

    private async Task<SyncHealthReport> HealthAsync() => await _r.Health.GetSyncHealthAsync(new GetSyncHealthRequest());

    private async Task WaitSettledAsync(long accepted) =>
        await Eventually.TrueAsync(async () => await HealthAsync() is { PendingEvents: 0 } h && h.EventsProcessed + h.DeadLetters >= accepted,
            $"{accepted} events are processed or dead-lettered");

    // Bodies in the documented shapes of the actions whose examples are not in ../shared
    // (our own values; the structure follows Greenhouse's webhook pages).
    private static readonly Dictionary<string, string> DocumentedShapes = new(StringComparer.Ordinal)
    {
        ["new_prospect_application"] = """{"action":"new_prospect_application","payload":{"application":{"id":900001,"prospect":true,"status":"active","applied_at":"2017-09-29T12:56:05Z","last_activity_at":"2017-09-29T12:56:05Z","source":{"id":16,"name":"LinkedIn (Prospecting)"},"jobs":[{"id":4}],"candidate":{"id":800001,"first_name":"Pat","last_name":"Prospect","email_addresses":[{"value":"pat@example.com","type":"personal"}]}}}}""",
        ["unreject_candidate"] = """{"action":"unreject_candidate","payload":{"application":{"id":900002,"rejected_at":null,"prospect":false,"status":"active","rejection_reason":null,"candidate":{"id":800002,"first_name":"Una","email_addresses":[{"value":"una@example.com","type":"personal"}]},"jobs":[{"id":5}]}}}""",
        ["offer_deleted"] = """{"action":"offer_deleted","payload":{"id":506409,"application_id":900002,"job_id":5,"user_id":7,"version":2,"sent_on":null,"resolved_at":null,"start_date":null,"notes":null,"offer_status":"Unresolved"}}""",
        ["interview_deleted"] = """{"action":"interview_deleted","payload":{"interview":{"id":1234}}}""",
        ["job_post_updated"] = """{"action":"job_post_updated","payload":{"job_post":{"id":123,"title":"Engineer","location":"Remote","internal":false,"external":true,"live":true,"job_id":5}}}""",
        ["office_deleted"] = """{"action":"office_deleted","payload":{"office":{"id":13}}}""",
        ["merge_candidate"] = """{"action":"merge_candidate","payload":{"person":{"id":800002,"first_name":"Una","last_name":"Merged","company":null,"title":null,"created_at":"2013-03-22T00:00:00Z","headline":null,"is_private":false,"recruiter_user_id":123,"coordinator_user_id":456,"can_email":false,"new_candidate_id":800001}}}""",
        ["candidate_anonymized"] = """{"action":"candidate_anonymized","payload":{"candidate_id":800001,"anonymized_fields":["full_name","current_title","email_addresses"]}}""",
    };

    [WebhookExamplesFact(nameof(Merge_in_the_documented_shape_removes_the_loser_and_its_id_answers_with_the_winner_over_grpc_and_json), nameof(Fuzzed_signed_bodies_never_get_a_500_and_valid_events_sent_afterwards_are_all_applied))]
    public async Task Every_documented_action_is_accepted_and_applied_with_nothing_dead_lettered_or_pending()
    {
        var bodies = Directory.GetFiles(RepositoryPaths.WebhookExamples!, "*.json").Select(File.ReadAllBytes).ToList();
        var shared = bodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("action").GetString()!).ToHashSet();
        // Shared examples first; documented shapes only for actions they lack (merge and anonymisation last,
        // as they act on the candidates the others created).
        bodies.AddRange(DocumentedShapes.Where(s => !shared.Contains(s.Key)).Select(s => Encoding.UTF8.GetBytes(s.Value)));
        var actions = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < bodies.Count; i++)
        {
            actions.Add(JsonDocument.Parse(bodies[i]).RootElement.GetProperty("action").GetString()!);
            using var response = await _r.SendAsync(bodies[i], $"doc-{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("accepted", await ResultOf(response));
        }
        Assert.Equal(WebhookActions.All.OrderBy(a => a), actions.OrderBy(a => a));
        await WaitSettledAsync(bodies.Count);

        var health = await HealthAsync();
        Assert.Equal(0, health.DeadLetters);
        Assert.Equal(0, health.PendingEvents);
        Assert.Equal(bodies.Count, health.EventsProcessed);
        if (!shared.Contains("merge_candidate") && !shared.Contains("candidate_anonymized"))
        {
            // The merged-away id answers with the winner, anonymised as documented.
            var winner = await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 800002 });
            Assert.Equal(800001, winner.Id);
            Assert.Equal(("Anonymized", "800001"), (winner.FirstName, winner.LastName));
            Assert.Empty(winner.EmailAddresses);
            Assert.Contains(800002L, winner.MergedCandidateIds);
            var lookup = await _r.Candidates.LookupAsync(new LookupCandidatesRequest { Email = { "pat@example.com", "una@example.com" } });
            Assert.Empty(lookup.Matches);
        }
    }

    [Fact]
    public async Task Merge_in_the_documented_shape_removes_the_loser_and_its_id_answers_with_the_winner_over_grpc_and_json()
    {
        await _r.SendAsync(ProcessorHarness.Update(37031511, "jack@example.com", "Jack"), "m1");
        await _r.SendAsync(ProcessorHarness.Update(457456, "sparrow@example.com", "Captain"), "m2");
        await _r.SendAsync("""{"action":"merge_candidate","payload":{"person":{"id":37031511,"first_name":"Jack","last_name":"Sparrow","new_candidate_id":457456}}}""", "m3");
        await WaitSettledAsync(3);

        var winner = await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 37031511 });
        Assert.Equal((457456L, "Captain"), (winner.Id, winner.FirstName));
        Assert.Equal([37031511L], winner.MergedCandidateIds);
        var json = JsonDocument.Parse(await _r.Api.GetStringAsync("/v1/candidates/37031511")).RootElement;
        Assert.Equal(457456, json.GetProperty("id").GetInt64());
        var lookup = await _r.Candidates.LookupAsync(new LookupCandidatesRequest { Email = { "jack@example.com" } });
        Assert.Empty(lookup.Matches);
        var list = await _r.Candidates.ListAsync(new ListCandidatesRequest());
        Assert.Equal([457456L], list.Candidates.Select(c => c.Id));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var watch = _r.Candidates.WatchChanges(new WatchChangesRequest(), cancellationToken: timeout.Token);
        var changes = new List<CandidateChange>();
        while (changes.Count < 4 && await watch.ResponseStream.MoveNext(timeout.Token))
        {
            changes.Add(watch.ResponseStream.Current);
        }
        Assert.Contains(changes, c => c.Kind == ChangeKind.Merged && c.CandidateId == 37031511 && c.MergedIntoId == 457456);
    }

    [Fact]
    public async Task Merge_into_a_winner_not_mirrored_yet_answers_not_found_naming_the_winner_until_it_arrives()
    {
        await _r.SendAsync("""{"action":"merge_candidate","payload":{"person":{"id":11,"new_candidate_id":12}}}""", "a1");
        await WaitSettledAsync(1);
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 11 }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Contains("merged into 12", missing.Status.Detail, StringComparison.Ordinal);

        await _r.SendAsync(ProcessorHarness.Update(12, "twelve@example.com", "Twelve"), "a2");
        await WaitSettledAsync(2);
        var winner = await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 11 });
        Assert.Equal(12, winner.Id);
        Assert.Equal([11L], winner.MergedCandidateIds);
    }

    [Fact]
    public async Task Unsigned_or_wrongly_signed_ping_is_answered_200_and_stored_nowhere_while_other_actions_stay_401()
    {
        var ping = """{"action":"ping","payload":{"web_hook_id":1,"url":"https://example.com/hook"}}"""u8.ToArray();
        using (var unsigned = await _r.SendAsync(ping, "p1", signature: ""))
        {
            Assert.Equal(HttpStatusCode.OK, unsigned.StatusCode);
            Assert.Equal("ignored", await ResultOf(unsigned));
        }
        using (var wrong = await _r.SendAsync(ping, "p2", secret: "not-the-secret"))
        {
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        }
        using (var signed = await _r.SendAsync(ping, "p3"))
        {
            Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        }
        using (var update = await _r.SendAsync(ProcessorHarness.Update(1, "a@example.com"), "u1", signature: ""))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, update.StatusCode);
        }
        // "ping" inside a payload is not a ping.
        using (var disguised = await _r.SendAsync("""{"action":"update_candidate","payload":{"action":"ping"}}""", "u2", signature: ""))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, disguised.StatusCode);
        }
        var metrics = await _r.MetricsAsync();
        Assert.Contains("""greenhouse_webhooks_received_total{action="ping",result="ignored_unverified_ping"} 2""", metrics, StringComparison.Ordinal);
        Assert.Contains("""greenhouse_webhooks_received_total{action="ping",result="ignored"} 1""", metrics, StringComparison.Ordinal);
        Assert.Contains("""greenhouse_webhooks_received_total{action="unknown",result="rejected_signature"} 2""", metrics, StringComparison.Ordinal);
        var health = await HealthAsync();
        Assert.Equal((0L, 0L), (health.EventsAccepted, health.PendingEvents));
    }

    [Fact]
    public async Task Lone_surrogate_in_the_action_is_a_400_not_a_500()
    {
        using var response = await _r.SendAsync("""{"action":"\ud800","payload":{}}""", "s1");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"action":"update_candidate","payload":{"candidate":{"id":5,""")]
    [InlineData("""{"action":"update_candidate","payload":{"candidate":{"id":5}}} trailing""")]
    [InlineData("""{"action":"update_candidate","payload":{"candidate":{"id":5,"tags":[}}}""")]
    public async Task A_signed_body_that_is_not_JSON_after_its_action_is_kept_in_the_dead_letters(string body)
    {
        // Ingest reads the envelope up to its action; the processor parses the whole body, and one that
        // is not JSON is dead-lettered on its first attempt (kept for the operator, not retried).
        using var response = await _r.SendAsync(body, "cut-1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("accepted", await ResultOf(response));
        await WaitSettledAsync(1);
        var health = await HealthAsync();
        Assert.Equal((1L, 0L, 0L), (health.DeadLetters, health.EventsProcessed, health.PendingEvents));
        // The counter is incremented just after the transaction that moves the event.
        const string DeadLettered = """greenhouse_events_processed_total{action="update_candidate",outcome="dead_lettered"} 1""";
        await Eventually.TrueAsync(async () => (await _r.MetricsAsync()).Contains(DeadLettered, StringComparison.Ordinal), DeadLettered);
        Assert.DoesNotContain("outcome=\"retried\"", await _r.MetricsAsync(), StringComparison.Ordinal);
    }

    private const string FuzzCharacters = "{}[]\",:\\0123456789tfn-.eE";

    [Fact]
    public async Task Fuzzed_signed_bodies_never_get_a_500_and_valid_events_sent_afterwards_are_all_applied()
    {
        var random = new Random(20261202);
        var templates = new List<byte[]>
        {
            Encoding.UTF8.GetBytes(ProcessorHarness.Update(5, "five@example.com", "Five")),
            Encoding.UTF8.GetBytes("""{"action":"merge_candidate","payload":{"person":{"id":5,"new_candidate_id":6}}}"""),
            Encoding.UTF8.GetBytes("""{"action":"candidate_anonymized","payload":{"candidate_id":5,"anonymized_fields":["full_name"]}}"""),
            Encoding.UTF8.GetBytes("""{"action":"reject_candidate","payload":{"application":{"id":1,"status":"rejected","rejected_at":"2020-01-01T00:00:00Z","candidate":{"id":5}}}}"""),
        };
        if (RepositoryPaths.WebhookExamples is { } examples)
        {
            templates.AddRange(Directory.GetFiles(examples, "*.json").Select(File.ReadAllBytes));
        }
        var bodies = new List<byte[]>
        {
            """{"action":"\ud800","payload":{}}"""u8.ToArray(),
            """{"action":"update_candidate","payload":{"candidate":{"id":5,"first_name":"\udfff\ud800","tags":["\ud83d"]}}}"""u8.ToArray(),
            Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":5,\"first_name\":\"").Concat(new byte[] { 0xff, 0xfe }).Concat("\"}}}"u8.ToArray()).ToArray(),
            Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"payload\":" + new string('[', 5000) + new string(']', 5000) + "}"),
            Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":5,\"x\":" + new string('[', 100) + new string(']', 100) + "}}}"),
            Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":5,\"email_addresses\":[" + string.Join(',', Enumerable.Range(0, 100_000).Select(i => "1")) + "]}}}"),
            Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":5,\"tags\":[" + string.Join(',', Enumerable.Range(0, 50_000).Select(i => $"\"t{i}\"")) + "]}}}"),
            """{"action":"update_candidate","payload":{"candidate":[]}}"""u8.ToArray(),
            """{"action":"update_candidate","payload":"text"}"""u8.ToArray(),
            """{"action":"update_candidate","payload":{"candidate":{"id":{"nested":1}}}}"""u8.ToArray(),
            """{"action":"update_candidate","payload":{"candidate":{"id":1e400}}}"""u8.ToArray(),
            """{"action":"update_candidate","payload":{"candidate":{"id":-99999999999999999999999}}}"""u8.ToArray(),
            """{"action":"merge_candidate","payload":{"person":{"id":"5","new_candidate_id":[6]}}}"""u8.ToArray(),
            """{"action":"candidate_anonymized","payload":{"candidate_id":5,"anonymized_fields":"full_name"}}"""u8.ToArray(),
            """{"action":"delete_application","payload":{"application":{"id":true,"candidate_id":null}}}"""u8.ToArray(),
            """{"action":7,"payload":{}}"""u8.ToArray(),
            """[{"action":"update_candidate"}]"""u8.ToArray(),
            Array.Empty<byte>(),
        };
        for (var i = 0; i < 150; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            bodies.Add(bytes);
        }
        for (var i = 0; i < 400; i++)
        {
            var body = templates[random.Next(templates.Count)].ToList();
            for (var m = random.Next(1, 6); m > 0 && body.Count > 0; m--)
            {
                var at = random.Next(body.Count);
                switch (random.Next(4))
                {
                    case 0: body[at] = (byte)random.Next(256); break;
                    case 1: body.RemoveAt(at); break;
                    case 2: body.Insert(at, (byte)FuzzCharacters[random.Next(FuzzCharacters.Length)]); break;
                    default: body.RemoveRange(at, body.Count - at); break;
                }
            }
            bodies.Add([.. body]);
        }

        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < bodies.Count; i++)
        {
            using var response = await _r.SendAsync(bodies[i], $"fuzz-{i}");
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
            Assert.True((int)response.StatusCode < 500, $"body {i} got {(int)response.StatusCode}");
        }
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 50, "the fuzz reached processing");

        const int Valid = 30;
        for (var i = 0; i < Valid; i++)
        {
            using var response = await _r.SendAsync(ProcessorHarness.Update(7_000_000 + i, $"valid{i}@example.com", "Valid"), $"valid-{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // Every stored event is settled at once: applied, or dead-lettered on its first attempt (no retry is due for a minute).
        await Eventually.TrueAsync(async () => (await HealthAsync()).PendingEvents == 0, "no stored event is pending");
        // The mirror publishes a pass's changes just after the transaction that marks its events processed.
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 7_000_000 + Valid - 1 });
                return true;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
            {
                return false;
            }
        }, "the last pass is published to the mirror");
        for (var i = 0; i < Valid; i++)
        {
            Assert.Equal("Valid", (await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 7_000_000 + i })).FirstName);
        }
        Assert.DoesNotContain("outcome=\"retried\"", await _r.MetricsAsync(), StringComparison.Ordinal);
    }
}
