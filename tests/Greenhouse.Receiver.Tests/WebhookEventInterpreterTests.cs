using System.Text.Json;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Processing;
using Greenhouse.Receiver.Tests.Support;

namespace Greenhouse.Receiver.Tests;

public sealed class WebhookEventInterpreterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<MirrorChange> Interpret(string json, Func<long, CandidateRecord?>? current = null)
    {
        using var document = JsonDocument.Parse(json);
        var action = document.RootElement.GetProperty("action").GetString()!;
        return WebhookEventInterpreter.Interpret(action, document.RootElement, current ?? (_ => null), Now);
    }

    [WebhookExamplesFact]
    public void Every_shared_example_is_interpreted_and_candidate_bearing_ones_upsert_their_candidate()
    {
        foreach (var file in Directory.GetFiles(RepositoryPaths.WebhookExamples!, "*.json"))
        {
            var json = File.ReadAllText(file);
            using var document = JsonDocument.Parse(json);
            var payload = document.RootElement.GetProperty("payload");
            var changes = Interpret(json);
            long? expected = payload.TryGetProperty("candidate", out var c) ? c.GetProperty("id").GetInt64()
                : payload.TryGetProperty("application", out var a) && a.TryGetProperty("candidate", out var ac) ? ac.GetProperty("id").GetInt64()
                : null;
            if (expected is { } id)
            {
                var change = Assert.Single(changes);
                Assert.Equal(CandidateChangeKind.Upserted, change.Kind);
                Assert.Equal(id, change.CandidateId);
                Assert.NotEmpty(change.Candidate!.EmailAddresses);
            }
            else
            {
                // delete_candidate of an unknown candidate, jobs, offers, departments...: nothing to mirror.
                Assert.Empty(changes);
            }
        }
    }

    [Fact]
    public void Upsert_reads_contacts_and_ignores_unknown_fields()
    {
        var change = Assert.Single(Interpret("""
            {"action":"update_candidate","payload":{"candidate":{"id":7,"first_name":"Jane","brand_new":{"deep":[1]},
             "email_addresses":[{"value":"jane@example.com","type":"personal","extra":true}],
             "website_addresses":[{"value":"janedoe.dev"}],"social_media_addresses":[{"value":"https://github.com/jane"}],
             "tags":["a",{"name":"b"}],"created_at":"2020-01-02T03:04:05Z"}}}
            """));
        var candidate = change.Candidate!;
        Assert.Equal("Jane", candidate.FirstName);
        Assert.Equal(["a", "b"], candidate.Tags);
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero), candidate.CreatedAt);
        Assert.Equal(["email:jane@example.com", "url:janedoe.dev", "url:github.com/jane"], candidate.LookupKeys().Select(k => k.ToString()));
    }

    [Fact]
    public void Nulls_clear_values_and_absent_fields_keep_the_mirrored_ones()
    {
        var existing = new CandidateRecord
        {
            Id = 7, FirstName = "Jane", LastName = "Doe", Company = "Acme",
            EmailAddresses = [new ContactEntry("jane@example.com", "work")],
        };
        var change = Assert.Single(Interpret(
            """{"action":"update_candidate","payload":{"candidate":{"id":7,"company":null,"email_addresses":null,"last_name":"Smith"}}}""",
            id => id == 7 ? existing : null));
        Assert.Equal("Jane", change.Candidate!.FirstName);
        Assert.Equal("Smith", change.Candidate.LastName);
        Assert.Null(change.Candidate.Company);
        Assert.Empty(change.Candidate.EmailAddresses);
    }

    [Fact]
    public void Application_event_without_optional_objects_still_upserts_and_records_the_application()
    {
        var change = Assert.Single(Interpret("""{"action":"candidate_stage_change","payload":{"application":{"id":55,"candidate":{"id":9}}}}"""));
        Assert.Equal(9, change.CandidateId);
        Assert.Equal([55L], change.Candidate!.ApplicationIds);
    }

    [Fact]
    public void Unknown_or_non_candidate_actions_change_nothing()
    {
        Assert.Empty(Interpret("""{"action":"some_future_action","payload":{"whatever":{"id":1}}}"""));
        Assert.Empty(Interpret("""{"action":"office_deleted","payload":{"office":{"id":1}}}"""));
    }

    [Fact]
    public void Candidate_event_without_a_candidate_id_is_poison()
    {
        Assert.Throws<PoisonEventException>(() => Interpret("""{"action":"update_candidate","payload":{"candidate":{"id":null}}}"""));
        Assert.Throws<PoisonEventException>(() => Interpret("""{"action":"update_candidate","payload":null}"""));
    }

    [Fact]
    public void Delete_of_a_mirrored_candidate_deletes_it()
    {
        var existing = new CandidateRecord { Id = 37031511 };
        var change = Assert.Single(Interpret("""{"action":"delete_candidate","payload":{"person":{"id":37031511}}}""", id => id == existing.Id ? existing : null));
        Assert.Equal(CandidateChangeKind.Deleted, change.Kind);
    }

    [Fact]
    public void Merge_drops_the_loser_and_folds_its_contacts_into_the_survivor()
    {
        var loser = new CandidateRecord { Id = 1, EmailAddresses = [new ContactEntry("old@example.com", null)] };
        var survivor = new CandidateRecord { Id = 2, EmailAddresses = [new ContactEntry("new@example.com", null)] };
        var changes = Interpret("""{"action":"merge_candidate","payload":{"person":{"id":1},"new_candidate_id":2}}""",
            id => id switch { 1 => loser, 2 => survivor, _ => null });
        Assert.Equal(2, changes.Count);
        Assert.Equal(new MirrorChange(CandidateChangeKind.Merged, 1, null, 2), changes[0]);
        Assert.Equal(["new@example.com", "old@example.com"], changes[1].Candidate!.EmailAddresses.Select(e => e.Value));
        Assert.Equal([1L], changes[1].Candidate!.MergedCandidateIds);
    }

    [Fact]
    public void Anonymisation_scrubs_the_named_fields_and_remembers_them()
    {
        var existing = new CandidateRecord
        {
            Id = 3, FirstName = "Jane", LastName = "Doe", Title = "CTO",
            EmailAddresses = [new ContactEntry("jane@example.com", null)],
            SocialMediaAddresses = [new ContactEntry("linkedin.com/in/jane", null)],
        };
        var change = Assert.Single(Interpret(
            """{"action":"candidate_anonymized","payload":{"candidate_id":3,"anonymized_fields":["full_name","email_addresses","social_media_links","future_field"]}}""",
            id => id == 3 ? existing : null));
        Assert.Equal(CandidateChangeKind.Anonymized, change.Kind);
        Assert.Null(change.Candidate!.FirstName);
        Assert.Null(change.Candidate.LastName);
        Assert.Equal("CTO", change.Candidate.Title);
        Assert.Empty(change.Candidate.LookupKeys());
        Assert.Contains("future_field", change.Candidate.AnonymizedFields);
    }

    [Fact]
    public void Delete_application_removes_the_application_from_its_candidate()
    {
        var existing = new CandidateRecord { Id = 4, ApplicationIds = [10, 11] };
        var change = Assert.Single(Interpret("""{"action":"delete_application","payload":{"application":{"id":10,"candidate_id":4}}}""", id => id == 4 ? existing : null));
        Assert.Equal([11L], change.Candidate!.ApplicationIds);
    }

    [Theory]
    [InlineData("""{"action":"update_candidate","payload":{"candidate":{"id":5}}}""", 5L)]
    [InlineData("""{"action":"hire_candidate","payload":{"application":{"id":1,"candidate":{"id":6}}}}""", 6L)]
    [InlineData("""{"action":"delete_application","payload":{"application":{"id":1,"candidate_id":7}}}""", 7L)]
    [InlineData("""{"action":"merge_candidate","payload":{"person":{"id":8},"new_candidate_id":9}}""", 8L)]
    [InlineData("""{"action":"candidate_anonymized","payload":{"candidate_id":"10"}}""", 10L)]
    [InlineData("""{"action":"job_created","payload":{"job":{"id":11}}}""", null)]
    public void Ordering_key_is_the_candidate_the_event_is_about(string json, long? expected)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal(expected, WebhookEventInterpreter.CandidateIdOf(document.RootElement.GetProperty("action").GetString()!, document.RootElement));
    }
}
