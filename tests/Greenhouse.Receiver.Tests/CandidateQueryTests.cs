using System.Text.Json;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Receiver.Tests.Support;
using Grpc.Core;

namespace Greenhouse.Receiver.Tests;

/// <summary>Re-engagement queries, the Integration read and profile links from the SSO domain.</summary>
public sealed class CandidateQueryTests : IAsyncLifetime
{
    private TestReceiver _r = null!;

    public async Task InitializeAsync() => _r = await TestReceiver.StartAsync(
        ["--Greenhouse:SsoDomain=Acme.greenhouse.io", "--Greenhouse:MaildropEmail=maildrop+acme@us.greenhouse-mail.io"]);

    public async Task DisposeAsync() => await _r.DisposeAsync();

    private static string Application(string action, long candidateId, long applicationId, string status, DateTimeOffset? rejectedAt, string source, string[] tags) =>
        JsonSerializer.Serialize(new
        {
            action,
            payload = new
            {
                application = new
                {
                    id = applicationId,
                    status,
                    prospect = false,
                    rejected_at = rejectedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    rejection_reason = rejectedAt is null ? null : new { id = 1, name = "Timing" },
                    source = new { id = 1, public_name = source },
                    jobs = new[] { new { id = 77 } },
                    candidate = new { id = candidateId, first_name = $"C{candidateId}", tags },
                },
            },
        });

    private async Task<long[]> QueryAsync(QueryCandidatesRequest request) =>
        [.. (await _r.Candidates.QueryAsync(request)).Candidates.Select(c => c.Id)];

    [Fact]
    public async Task Query_filters_on_rejection_age_tag_active_applications_and_source_and_pages_with_a_cursor()
    {
        var now = DateTimeOffset.UtcNow;
        string[] bodies =
        [
            Application("reject_candidate", 1, 101, "rejected", now.AddDays(-400), "LinkedIn", ["Alumni"]),
            Application("reject_candidate", 2, 201, "rejected", now.AddDays(-400), "Referral", ["alumni"]),
            Application("new_candidate_application", 2, 202, "active", null, "Referral", ["alumni"]),
            Application("reject_candidate", 3, 301, "rejected", now.AddDays(-1), "LinkedIn", ["alumni"]),
            Application("hire_candidate", 4, 401, "hired", null, "Agency", ["alumni", "boomerang"]),
            Application("reject_candidate", 5, 501, "rejected", now.AddDays(-200), "LinkedIn", ["other"]),
        ];
        for (var i = 0; i < bodies.Length; i++)
        {
            using var response = await _r.SendAsync(bodies[i], $"q{i}");
            response.EnsureSuccessStatusCode();
        }
        await Eventually.TrueAsync(async () => (await _r.Health.GetSyncHealthAsync(new GetSyncHealthRequest())).EventsProcessed == bodies.Length, "all applied");

        Assert.Equal(new long[] { 1L, 5L }, await QueryAsync(new QueryCandidatesRequest { RejectedMoreThanDaysAgo = 30, NoActiveApplication = true }));
        Assert.Equal(new long[] { 1L }, await QueryAsync(new QueryCandidatesRequest { RejectedMoreThanDaysAgo = 30, Tag = "ALUMNI", NoActiveApplication = true }));
        Assert.Equal(new long[] { 1L, 3L, 5L }, await QueryAsync(new QueryCandidatesRequest { Source = "linkedin" }));
        Assert.Equal(new long[] { 4L }, await QueryAsync(new QueryCandidatesRequest { Tag = "boomerang" }));
        Assert.Empty(await QueryAsync(new QueryCandidatesRequest { Tag = "nobody-has-this" }));

        var first = await _r.Candidates.QueryAsync(new QueryCandidatesRequest { Tag = "alumni", NoActiveApplication = true, PageSize = 2 });
        Assert.Equal([1L, 3L], first.Candidates.Select(c => c.Id));
        var second = await _r.Candidates.QueryAsync(new QueryCandidatesRequest { Tag = "alumni", NoActiveApplication = true, PageSize = 2, PageToken = first.NextPageToken });
        Assert.Equal([4L], second.Candidates.Select(c => c.Id));
        Assert.Empty(second.NextPageToken);

        var rejected = Assert.Single(first.Candidates[0].Applications);
        Assert.Equal(("rejected", "Timing", "LinkedIn"), (rejected.Status, rejected.RejectionReason, rejected.Source));
        Assert.Equal([77L], rejected.JobIds);

        // Untagging takes the candidate out of the tag's index at once.
        await _r.SendAsync("""{"action":"update_candidate","payload":{"candidate":{"id":1,"tags":[]}}}""", "untag");
        await Eventually.TrueAsync(async () => (await QueryAsync(new QueryCandidatesRequest { Tag = "alumni", NoActiveApplication = true })) is [3, 4], "candidate 1 left the tag");

        var json = JsonDocument.Parse(await _r.Api.GetStringAsync("/v1/candidates:query?source=Referral&rejectedMoreThanDaysAgo=30")).RootElement;
        Assert.Equal(2, Assert.Single(json.GetProperty("candidates").EnumerateArray()).GetProperty("id").GetInt64());
        var invalid = await Assert.ThrowsAsync<RpcException>(async () => await _r.Candidates.QueryAsync(new QueryCandidatesRequest { PageToken = "x" }));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
    }

    [Fact]
    public async Task Integration_read_tells_maildrop_and_sso_domain_and_candidates_without_a_url_get_a_profile_link()
    {
        var info = await _r.Integration.GetAsync(new GetIntegrationRequest());
        Assert.Equal(("maildrop+acme@us.greenhouse-mail.io", "acme.greenhouse.io"), (info.MaildropEmail, info.SsoDomain));
        Assert.Equal("https://acme.greenhouse.io/people/{id}", info.ProfileUrlTemplate);
        Assert.False(info.HarvestEnabled);
        Assert.Equal(0, info.SyncUserId);
        var json = JsonDocument.Parse(await _r.Api.GetStringAsync("/v1/integration")).RootElement;
        Assert.Equal("maildrop+acme@us.greenhouse-mail.io", json.GetProperty("maildropEmail").GetString());

        await _r.SendAsync(ProcessorHarness.Update(42, "a@example.com"), "nourl");
        await _r.SendAsync("""{"action":"update_candidate","payload":{"candidate":{"id":43,"url":"https://app.greenhouse.io/people/43"}}}""", "url");
        await Eventually.TrueAsync(async () => (await _r.Health.GetSyncHealthAsync(new GetSyncHealthRequest())).EventsProcessed == 2, "both applied");
        Assert.Equal("https://acme.greenhouse.io/people/42", (await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 42 })).Url);
        Assert.Equal("https://app.greenhouse.io/people/43", (await _r.Candidates.GetAsync(new GetCandidateRequest { Id = 43 })).Url);
    }
}
