using Sandbox.Greenhouse;

namespace Greenhouse.Harvest.Tests;

/// <summary>The client against the Greenhouse simulator over loopback.</summary>
public sealed class SimulatorIntegrationTests
{
    [Fact]
    public async Task A_full_listing_returns_every_candidate_once_across_pages()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1_201 });
        using var host = HarvestTestHost.ForSimulator(simulator);

        var ids = await host.Client.ListAllCandidateIdsAsync().ToListAsync();
        var pages = await host.Client.ListCandidatesAsync().CountAsync();

        Assert.Equal(simulator.CandidateIds.Order(), ids.Order());
        Assert.Equal(3, pages);
        Assert.Equal(0, simulator.Statistics.Throttled);
    }

    [Fact]
    public async Task A_candidate_is_fetched_by_id_with_its_profile_urls_and_a_missing_one_is_null()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 10 });
        using var host = HarvestTestHost.ForSimulator(simulator);
        var id = simulator.CandidateIds[4];

        var candidate = await host.Client.GetCandidateAsync(id);
        var missing = await host.Client.GetCandidateAsync(1);

        Assert.NotNull(candidate);
        Assert.Equal(simulator.GetCandidate(id)!["last_name"]!.GetValue<string>(), candidate.LastName);
        Assert.Contains(candidate.SocialMediaAddresses, s => s.Value!.StartsWith("https://www.linkedin.com/in/", StringComparison.Ordinal));
        Assert.Equal(2, candidate.EmailAddresses.Count);
        Assert.Null(missing);
        Assert.True(host.Client.Status.Authenticated);
    }

    [Fact]
    public async Task Candidates_updated_since_a_time_are_listed_and_others_are_not()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 300 });
        using var host = HarvestTestHost.ForSimulator(simulator);
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var changed = simulator.CandidateIds.Where((_, i) => i % 60 == 0).ToList();
        foreach (var id in changed)
        {
            simulator.UpdateCandidate(id, c => c["company"] = "Umbrella", WebhookSendMode.None);
        }

        var found = new List<HarvestCandidate>();
        await foreach (var page in host.Client.ListCandidatesUpdatedSinceAsync(since))
        {
            found.AddRange(page);
        }

        Assert.Equal(changed.Order(), found.Select(c => c.Id).Order());
        Assert.All(found, c => Assert.Equal("Umbrella", c.Company));
    }

    [Fact]
    public async Task A_429_storm_is_waited_out_as_told_and_the_learned_limit_is_not_exceeded_afterwards()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 5, RateLimit = 10, RateLimitWindow = TimeSpan.FromSeconds(1) });
        using var host = HarvestTestHost.ForSimulator(simulator);
        simulator.Faults.ThrottleRetryAfter = TimeSpan.FromSeconds(1);
        simulator.Faults.ThrottleNext(3);

        await host.Client.ListSourcesAsync().ToListAsync();
        var stormEnded = simulator.Statistics;
        await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => host.Client.GetCandidateAsync(simulator.CandidateIds[0])));

        var after = simulator.Statistics;
        Assert.Equal(3, stormEnded.Throttled);
        Assert.Equal(0, after.RequestsDuringPenalty);
        Assert.Equal(3, after.Throttled);
        Assert.InRange(after.MaxRequestsInAnyWindow, 1, 10);
        Assert.Equal(10, host.Client.Status.RateLimitLimit);
        Assert.Equal(3, host.Client.Status.ThrottledResponses);
    }

    [Fact]
    public async Task Persistent_429s_end_in_a_rate_limited_error()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        using var host = HarvestTestHost.ForSimulator(simulator, o => o.MaxThrottledRetries = 1);
        simulator.Faults.ThrottleRetryAfter = TimeSpan.FromSeconds(1);
        simulator.Faults.ThrottleNext(5);

        var error = await Assert.ThrowsAsync<HarvestRateLimitedException>(() => host.Client.ListSourcesAsync().ToListAsync().AsTask());

        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
        Assert.Equal(0, simulator.Statistics.RequestsDuringPenalty);
    }

    [Fact]
    public async Task Server_errors_and_dropped_connections_on_reads_are_retried_until_they_succeed()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        using var host = HarvestTestHost.ForSimulator(simulator, o => o.MaxTransientRetries = 4);
        await host.Client.ListSourcesAsync().ToListAsync();
        simulator.Faults.FailNext(2);
        simulator.Faults.DropNext(1);

        var candidate = await host.Client.GetCandidateAsync(simulator.CandidateIds[1]);

        Assert.NotNull(candidate);
        // Requests are logged as the simulator finishes them, which can be just after the client has its answer.
        await Eventually.TrueAsync(() => simulator.Requests.Count(r => r.PathAndQuery.StartsWith("/v3/candidates", StringComparison.Ordinal)) >= 4, "all four attempts are in the simulator's request log");
        Assert.Equal(4, simulator.Requests.Count(r => r.PathAndQuery.StartsWith("/v3/candidates", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_note_whose_connection_dropped_is_reported_and_not_posted_again()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        using var host = HarvestTestHost.ForSimulator(simulator);
        await host.Client.ListSourcesAsync().ToListAsync();
        simulator.Faults.DropNext(1);

        await Assert.ThrowsAsync<HarvestUnavailableException>(() => host.Client.AddNoteAsync(new HarvestNoteRequest(simulator.CandidateIds[0], "once")));

        // The simulator logs a request whose connection it dropped only after the client has seen the drop.
        await Eventually.TrueAsync(() => simulator.Requests.Any(r => r.Method == "POST"), "the dropped POST is in the simulator's request log");
        Assert.Single(simulator.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Expired_tokens_are_replaced_transparently()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        using var host = HarvestTestHost.ForSimulator(simulator);
        await host.Client.ListSourcesAsync().ToListAsync();
        simulator.ExpireTokens();

        var users = await host.Client.ListUsersAsync().ToListAsync();

        Assert.Contains(users, u => u.Id == simulator.SyncUserId && u.SiteAdmin == true);
        Assert.Equal(2, simulator.Statistics.TokenRequests);
    }

    [Fact]
    public async Task A_wrong_secret_is_reported_as_unauthorized_and_the_rotated_previous_secret_still_works()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        using var wrong = HarvestTestHost.ForSimulator(simulator, credentials: new HarvestCredentials("sandbox-client", "not-the-secret"));
        using var rotating = HarvestTestHost.ForSimulator(simulator, credentials: new HarvestCredentials("sandbox-client", "not-yet-active", "sandbox-secret"));

        var error = await Assert.ThrowsAsync<HarvestUnauthorizedException>(() => wrong.Client.GetCandidateAsync(simulator.CandidateIds[0]));
        var candidate = await rotating.Client.GetCandidateAsync(simulator.CandidateIds[0]);

        Assert.Equal("invalid_client", error.OAuthError);
        Assert.False(wrong.Client.Status.Authenticated);
        Assert.Contains("invalid_client", wrong.Client.Status.LastError, StringComparison.Ordinal);
        Assert.NotNull(candidate);
        Assert.True(rotating.Client.Status.UsingPreviousClientSecret);
    }

    [Fact]
    public async Task A_missing_scope_is_named_in_the_error_and_the_status()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        simulator.SetClient(simulator.DefaultClient with { Scopes = [.. SimulatedClient.AllScopes.Where(s => s != "harvest:notes:create")] });
        using var host = HarvestTestHost.ForSimulator(simulator);

        var error = await Assert.ThrowsAsync<HarvestForbiddenException>(() => host.Client.AddNoteAsync(new HarvestNoteRequest(simulator.CandidateIds[0], "hi")));

        Assert.Equal("harvest:notes:create", error.Scope);
        Assert.Equal(["harvest:notes:create"], host.Client.Status.MissingScopes);
    }

    [Fact]
    public async Task Write_back_operations_land_in_greenhouse_as_the_sync_user()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 3 });
        using var host = HarvestTestHost.ForSimulator(simulator);
        var id = simulator.CandidateIds[2];

        var note = await host.Client.AddNoteAsync(new HarvestNoteRequest(id, "Strong Rust background", "privately_visible"));
        var email = await host.Client.AddEmailNoteAsync(new HarvestEmailNoteRequest(id, "Hello", "Are you open to a chat?", "sourcer@acme.test", "candidate@example.com"));
        var applied = await host.Client.AddTagsAsync(id, ["Rust", "Sourced by bot", "rust"]);
        var again = await host.Client.AddTagsAsync(id, ["Rust"]);
        var removed = await host.Client.RemoveTagAsync(id, "Sourced by bot");
        var removedTwice = await host.Client.RemoveTagAsync(id, "Sourced by bot");
        var prospect = await host.Client.AddProspectAsync(new HarvestProspectRequest(id, SourceId: 1001));
        var notes = await host.Client.ListNotesAsync(id);

        Assert.Equal(simulator.SyncUserId, note.UserId);
        Assert.Equal("EMAIL", email.Type);
        Assert.Equal(2, notes.Count);
        Assert.Equal(2, applied.Count);
        Assert.Equal(applied[0].Id, Assert.Single(again).Id);
        Assert.True(removed);
        Assert.False(removedTwice);
        Assert.Contains("Rust", simulator.GetCandidate(id)!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.DoesNotContain("Sourced by bot", simulator.GetCandidate(id)!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.True(prospect.Prospect);
        Assert.Equal(1001, prospect.SourceId);
        Assert.Single(simulator.GetApplications(id));
    }

    [Fact]
    public async Task A_validation_error_from_the_simulator_names_the_field()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        using var host = HarvestTestHost.ForSimulator(simulator);

        var error = await Assert.ThrowsAsync<HarvestValidationException>(() => host.Client.AddNoteAsync(new HarvestNoteRequest(simulator.CandidateIds[0], "  ")));

        Assert.Equal("body", Assert.Single(error.Errors).Field);
    }

    [Fact]
    public async Task A_sync_user_who_is_not_a_site_admin_is_told_apart_from_a_missing_scope()
    {
        await using var simulator = await GreenhouseSimulator.StartAsync(new GreenhouseSimulatorOptions { CandidateCount = 1 });
        using var host = HarvestTestHost.ForSimulator(simulator, o => o.SyncUserId = 4081);

        var error = await Assert.ThrowsAsync<HarvestForbiddenException>(() => host.Client.ListCandidatesAsync().ToListAsync().AsTask());

        Assert.Null(error.Scope);
        Assert.Contains("Site Admin", error.Message, StringComparison.Ordinal);
        Assert.Empty(host.Client.Status.MissingScopes);
    }
}
