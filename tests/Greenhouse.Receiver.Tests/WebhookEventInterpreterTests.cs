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

    [WebhookExamplesFact(nameof(Upsert_reads_contacts_and_ignores_unknown_fields), nameof(Application_events_keep_status_rejection_jobs_source_and_last_activity), nameof(Unknown_or_non_candidate_actions_change_nothing))]
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

    // The documented "Candidate merged" example: payload.person is the record that goes away and
    // carries new_candidate_id, the winner.
    private const string DocumentedMerge = """
        {"action":"merge_candidate","payload":{"person":{"id":37031511,"first_name":"Jack","last_name":"Sparrow",
         "company":"Pirate Shipping","title":"Captain","created_at":"2013-03-22T00:00:00Z","headline":"Eager to find a new commission",
         "is_private":false,"recruiter_user_id":123,"coordinator_user_id":456,"can_email":false,"new_candidate_id":457456}}}
        """;

    [Fact]
    public void Merge_in_the_documented_shape_drops_the_loser_and_moves_its_applications_to_the_winner()
    {
        var loser = new CandidateRecord
        {
            Id = 37031511, EmailAddresses = [new ContactEntry("jack@example.com", null)], ApplicationIds = [5],
            Applications = [new ApplicationRecord { Id = 5, Status = "rejected" }],
        };
        var winner = new CandidateRecord { Id = 457456, EmailAddresses = [new ContactEntry("sparrow@example.com", null)], ApplicationIds = [6] };
        var changes = Interpret(DocumentedMerge, id => id switch { 37031511 => loser, 457456 => winner, _ => null });
        Assert.Equal(2, changes.Count);
        Assert.Equal(new MirrorChange(CandidateChangeKind.Merged, 37031511, null, 457456), changes[0]);
        var merged = changes[1].Candidate!;
        Assert.Equal(457456, merged.Id);
        // Only the winner's own contacts: the loser's keys go away with it.
        Assert.Equal(["sparrow@example.com"], merged.EmailAddresses.Select(e => e.Value));
        Assert.Equal([6L, 5L], merged.ApplicationIds);
        Assert.Equal(5, Assert.Single(merged.Applications).Id);
        Assert.Equal([37031511L], merged.MergedCandidateIds);
    }

    [Fact]
    public void Merge_arriving_before_the_winner_is_known_records_the_alias_only()
    {
        var loser = new CandidateRecord { Id = 37031511, EmailAddresses = [new ContactEntry("jack@example.com", null)] };
        var change = Assert.Single(Interpret(DocumentedMerge, id => id == 37031511 ? loser : null));
        Assert.Equal(new MirrorChange(CandidateChangeKind.Merged, 37031511, null, 457456), change);
        // A loser the mirror never held is still recorded (its id must answer with the winner).
        Assert.Equal(CandidateChangeKind.Merged, Assert.Single(Interpret(DocumentedMerge)).Kind);
    }

    [Fact]
    public void Merge_without_the_winner_inside_person_is_poison()
    {
        var error = Assert.Throws<PoisonEventException>(() => Interpret("""{"action":"merge_candidate","payload":{"person":{"id":1},"new_candidate_id":2}}"""));
        Assert.Contains("payload.person.new_candidate_id", error.Message, StringComparison.Ordinal);
    }

    private static CandidateRecord Anonymisable() => new()
    {
        Id = 3, FirstName = "Jane", LastName = "Doe", Title = "CTO", Company = "Acme", Tags = ["alumni"],
        EmailAddresses = [new ContactEntry("jane@example.com", null)],
        PhoneNumbers = [new ContactEntry("555", null)],
        WebsiteAddresses = [new ContactEntry("janedoe.dev", null)],
        SocialMediaAddresses = [new ContactEntry("linkedin.com/in/jane", null)],
        Applications =
        [
            new ApplicationRecord { Id = 1, Status = "rejected", RejectionReason = "Too junior", Source = "LinkedIn", JobIds = [9] },
            new ApplicationRecord { Id = 2, Status = "active", Prospect = true, Source = "Referral", JobIds = [8] },
        ],
    };

    private static CandidateRecord Anonymised(params string[] fields) => Assert.Single(Interpret(
        "{\"action\":\"candidate_anonymized\",\"payload\":{\"candidate_id\":3,\"anonymized_fields\":" + JsonSerializer.Serialize(fields) + "}}",
        id => id == 3 ? Anonymisable() : null)).Candidate!;

    [Fact]
    public void Anonymising_full_name_and_email_addresses_follows_the_documented_table()
    {
        var candidate = Anonymised("full_name", "email_addresses");
        Assert.Equal("Anonymized", candidate.FirstName);
        Assert.Equal("3", candidate.LastName);
        Assert.Empty(candidate.EmailAddresses);
        Assert.Equal("CTO", candidate.Title);
        Assert.Equal(["url:janedoe.dev", "url:linkedin.com/in/jane"], candidate.LookupKeys().Select(k => k.ToString()));
        Assert.Equal(["full_name", "email_addresses"], candidate.AnonymizedFields);
    }

    [Fact]
    public void Anonymising_emails_destroys_sent_mail_records_and_leaves_addresses()
    {
        var candidate = Anonymised("emails");
        Assert.Equal(["jane@example.com"], candidate.EmailAddresses.Select(e => e.Value));
        Assert.Equal("Jane", candidate.FirstName);
        Assert.Equal(["emails"], candidate.AnonymizedFields);
    }

    [Theory]
    [InlineData("current_company")]
    [InlineData("current_title")]
    [InlineData("phone_numbers")]
    [InlineData("websites")]
    [InlineData("social_media_links")]
    [InlineData("tags")]
    [InlineData("rejection_reasons")]
    [InlineData("source")]
    [InlineData("prospect_jobs")]
    public void Each_documented_attribute_that_touches_mirrored_data_is_applied(string field)
    {
        var before = Anonymisable();
        var after = Anonymised(field);
        var (changed, expected) = field switch
        {
            "current_company" => ((object?)after.Company, (object?)null),
            "current_title" => (after.Title, null),
            "phone_numbers" => (after.PhoneNumbers.Count, 0),
            "websites" => (after.WebsiteAddresses.Count, 0),
            "social_media_links" => (after.SocialMediaAddresses.Count, 0),
            "tags" => (after.Tags.Count, 0),
            "rejection_reasons" => (after.Applications.Count(a => a.RejectionReason is not null), 0),
            "source" => (after.Applications.Count(a => a.Source is not null), 0),
            // Only the prospect application loses its jobs.
            "prospect_jobs" => (string.Join(";", after.Applications.Select(a => string.Join(",", a.JobIds))), "9;"),
            _ => throw new InvalidOperationException(field),
        };
        Assert.Equal(expected, changed);
        Assert.Equal(before.FirstName, after.FirstName);
        Assert.Contains(field, CandidateAnonymization.MirroredFields);
    }

    [Fact]
    public void A_later_delivery_of_an_anonymised_candidate_does_not_bring_scrubbed_values_back()
    {
        var anonymised = Anonymised("full_name", "email_addresses");
        var change = Assert.Single(Interpret(
            """{"action":"update_candidate","payload":{"candidate":{"id":3,"first_name":"Jane","email_addresses":[{"value":"jane@example.com"}],"title":"CEO"}}}""",
            id => id == 3 ? anonymised : null));
        Assert.Equal("Anonymized", change.Candidate!.FirstName);
        Assert.Empty(change.Candidate.EmailAddresses);
        Assert.Equal("CEO", change.Candidate.Title);
    }

    [Fact]
    public void Application_events_keep_status_rejection_jobs_source_and_last_activity()
    {
        var rejected = Assert.Single(Interpret("""
            {"action":"reject_candidate","payload":{"application":{"id":265293,"rejected_at":"2015-02-11T15:50:41Z","prospect":false,
             "status":"rejected","last_activity_at":"2015-02-11T15:50:41Z","source":{"id":27,"public_name":"LinkedIn"},
             "rejection_reason":{"id":14,"name":"Too Junior","type":{"id":3,"name":"Wrong skill set"}},
             "candidate":{"id":265788,"tags":["Imported"]},"jobs":[{"id":371417}]}}}
            """)).Candidate!;
        var application = Assert.Single(rejected.Applications);
        Assert.Equal(("rejected", "Too Junior", "LinkedIn", false), (application.Status, application.RejectionReason, application.Source, application.Prospect));
        Assert.Equal(new DateTimeOffset(2015, 2, 11, 15, 50, 41, TimeSpan.Zero), application.RejectedAt);
        Assert.Equal([371417L], application.JobIds);
        Assert.Equal(application.LastActivityAt, rejected.LastActivityAt);

        // hire_candidate's documented body has no status; the deprecated job object names the job.
        var hired = Assert.Single(Interpret(
            """{"action":"hire_candidate","payload":{"application":{"id":265293,"job":{"id":5},"candidate":{"id":265788}}}}""",
            _ => rejected)).Candidate!;
        Assert.Equal(("hired", "Too Junior"), (hired.Applications[0].Status, hired.Applications[0].RejectionReason));
        Assert.Equal([5L], hired.Applications[0].JobIds);
    }

    [Fact]
    public void An_update_keeps_the_strings_and_lists_of_the_record_it_replaces_that_did_not_change()
    {
        var old = Assert.Single(Interpret("""
            {"action":"update_candidate","payload":{"candidate":{"id":9,"first_name":"J\u00f6rg","last_name":"Kim","company":"Acme","title":"CTO",
             "email_addresses":[{"value":"a@example.com","type":"work"},{"value":"b@example.com","type":"personal"},"c@example.com"],
             "phone_numbers":[{"value":"555","type":"mobile"}],"tags":["x",{"name":"y"},"z"]}}}
            """)).Candidate!;

        // The same values, spelled differently where JSON allows (an escape, a plain character): nothing new.
        var same = Assert.Single(Interpret("""
            {"action":"update_candidate","payload":{"candidate":{"id":9,"first_name":"Jörg","last_name":"K\u0069m","company":"Acme","title":"CTO",
             "email_addresses":[{"value":"a@example.com","type":"work"},{"value":"b@example.com","type":"personal"},"c@example.com"," "],
             "phone_numbers":[{"value":"555","type":"mobile"}],"tags":["x",{"name":"y"},"z",""]}}}
            """, _ => old)).Candidate!;
        Assert.Same(old.FirstName, same.FirstName);
        Assert.Same(old.LastName, same.LastName);
        Assert.Same(old.Company, same.Company);
        Assert.Same(old.EmailAddresses, same.EmailAddresses);
        Assert.Same(old.PhoneNumbers, same.PhoneNumbers);
        Assert.Same(old.Tags, same.Tags);

        // A change in the middle of a list: a new list with the new value, the unchanged strings kept.
        var changed = Assert.Single(Interpret("""
            {"action":"update_candidate","payload":{"candidate":{"id":9,"first_name":"Jorge","last_name":"Kim",
             "email_addresses":[{"value":"a@example.com","type":"work"},{"value":"b@example.com","type":"other"},"c@example.com"],
             "tags":["x","w","z","v"]}}}
            """, _ => old)).Candidate!;
        Assert.Equal("Jorge", changed.FirstName);
        Assert.Same(old.LastName, changed.LastName);
        Assert.NotSame(old.EmailAddresses, changed.EmailAddresses);
        Assert.Equal([new ContactEntry("a@example.com", "work"), new ContactEntry("b@example.com", "other"), new ContactEntry("c@example.com", null)], changed.EmailAddresses);
        Assert.Same(old.EmailAddresses[0], changed.EmailAddresses[0]);
        Assert.Same(old.EmailAddresses[1].Value, changed.EmailAddresses[1].Value);
        Assert.Same(old.EmailAddresses[2].Value, changed.EmailAddresses[2].Value);
        Assert.Equal(["x", "w", "z", "v"], changed.Tags);
        Assert.Same(old.Tags[2], changed.Tags[2]);
        // Fields the body leaves out keep the old record's values.
        Assert.Same(old.PhoneNumbers, changed.PhoneNumbers);
        Assert.Same(old.Company, changed.Company);

        // Shorter and longer lists than the old ones, and an emptied one.
        var shorter = Assert.Single(Interpret("""
            {"action":"update_candidate","payload":{"candidate":{"id":9,"email_addresses":[{"value":"a@example.com","type":"work"}],
             "phone_numbers":[{"value":"555","type":"mobile"},{"value":"556","type":null}],"tags":[]}}}
            """, _ => old)).Candidate!;
        Assert.Equal([new ContactEntry("a@example.com", "work")], shorter.EmailAddresses);
        Assert.Equal([new ContactEntry("555", "mobile"), new ContactEntry("556", null)], shorter.PhoneNumbers);
        Assert.Empty(shorter.Tags);
        Assert.Equal([new ContactEntry("a@example.com", "work"), new ContactEntry("b@example.com", "personal"), new ContactEntry("c@example.com", null)], old.EmailAddresses);
    }

    [Fact]
    public void Wrong_types_and_invalid_unicode_in_fields_the_mirror_reads_tolerantly_are_ignored()
    {
        var existing = new CandidateRecord { Id = 7, FirstName = "Jane", Title = "CTO", Tags = ["a"] };
        var change = Assert.Single(Interpret("""
            {"action":"candidate_stage_change","payload":{"application":{"id":"55","status":{"x":1},"jobs":"none","rejected_at":17,
             "source":[1],"rejection_reason":true,"candidate":{"id":7,"first_name":"\ud800","title":{"x":1},"tags":"b",
             "email_addresses":[{"value":"\udc00@example.com"},{"value":"ok@example.com"},7,null],"created_at":"not a date"}}}}
            """, id => id == 7 ? existing : null));
        var candidate = change.Candidate!;
        Assert.Equal(("Jane", "CTO"), (candidate.FirstName, candidate.Title));
        Assert.Equal(["a"], candidate.Tags);
        Assert.Equal(["ok@example.com"], candidate.EmailAddresses.Select(e => e.Value));
        Assert.Equal(55, Assert.Single(candidate.Applications).Id);
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
    [InlineData("""{"action":"merge_candidate","payload":{"person":{"id":8,"new_candidate_id":9}}}""", 8L)]
    [InlineData("""{"action":"candidate_anonymized","payload":{"candidate_id":"10"}}""", 10L)]
    [InlineData("""{"action":"job_created","payload":{"job":{"id":11}}}""", null)]
    public void Ordering_key_is_the_candidate_the_event_is_about(string json, long? expected)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal(expected, WebhookEventInterpreter.CandidateIdOf(document.RootElement.GetProperty("action").GetString()!, document.RootElement));
    }
}
