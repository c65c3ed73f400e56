using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;

namespace Greenhouse.Receiver.Tests;

public sealed class HydrationWorkerTests : IAsyncLifetime
{
    private readonly ScriptedHydrator _harvest = new();
    private ProcessorHarness _h = null!;

    public async Task InitializeAsync() => _h = await ProcessorHarness.StartAsync(hydrator: _harvest);

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        TempFolders.Delete(_h.Root);
    }

    private static CandidateRecord Full(long id, string firstName) => new()
    {
        Id = id,
        FirstName = firstName,
        LastName = "Harvest",
        Company = "Acme",
        EmailAddresses = [new ContactEntry($"c{id}@example.com", "work"), new ContactEntry($"alt{id}@example.com", "personal")],
        UpdatedAt = new DateTimeOffset(2026, 11, 29, 8, 0, 0, TimeSpan.Zero),
    };

    private long Scalar(string sql)
    {
        using var db = ReceiverDatabase.Open(_h.Options.DataDirectory, TimeSpan.FromSeconds(1));
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Burst_of_events_for_many_candidates_is_fetched_once_per_candidate_after_the_debounce()
    {
        for (var id = 1; id <= 60; id++)
        {
            _harvest.Greenhouse[id] = Full(id, $"Full{id}");
        }
        for (var round = 0; round < 5; round++)
        {
            for (var id = 1; id <= 60; id++)
            {
                await _h.StoreAsync($"e{round}-{id}", ProcessorHarness.Update(id, $"c{id}@example.com"));
            }
            await _h.ProcessAsync();
            _h.Time.Advance(TimeSpan.FromMilliseconds(500));
            Assert.Equal(0, await _h.HydrateAsync());
        }
        Assert.Empty(_harvest.Calls);
        _h.Time.Advance(TimeSpan.FromMilliseconds(600));

        Assert.Equal(60, await _h.HydrateAsync());

        // 60 candidates, 50 ids per Harvest request: two calls for 300 events.
        Assert.Equal([50, 10], _harvest.Calls.Select(c => c.Length));
        Assert.Equal("Full7", _h.Mirror.Get(7)!.FirstName);
        Assert.Equal(7, Assert.Single(_h.Mirror.Find(LookupKeyNormalizer.Email("ALT7@example.com")!.Value)).Id);
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM hydration_queue"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM changes WHERE candidate_id = 7 AND data LIKE '%alt7@example.com%'"));
    }

    [Fact]
    public async Task Endless_burst_is_fetched_no_later_than_the_maximum_delay()
    {
        _harvest.Greenhouse[1] = Full(1, "Full");
        for (var i = 0; i < 12; i++)
        {
            await _h.StoreAsync($"e{i}", ProcessorHarness.Update(1, "c1@example.com", $"Partial{i}"));
            await _h.ProcessAsync();
            await _h.HydrateAsync();
            _h.Time.Advance(TimeSpan.FromMilliseconds(500));
        }
        // Events every 500 ms never let the 1 s debounce pass; the 5 s bound forces one fetch.
        Assert.Single(_harvest.Calls);

        // Events after that fetch requested another one, served once the burst is over.
        _h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await _h.HydrateAsync());
        Assert.Equal(2, _harvest.Calls.Count);
        Assert.Equal("Full", _h.Mirror.Get(1)!.FirstName);
    }

    [Fact]
    public async Task Failed_fetch_stays_queued_and_retries_with_backoff_until_Harvest_answers()
    {
        _harvest.Greenhouse[1] = Full(1, "Full");
        _harvest.FailNext(2);
        await _h.StoreAsync("e1", ProcessorHarness.Update(1, "c1@example.com", "Partial"));
        await _h.ProcessAsync();
        _h.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(0, await _h.HydrateAsync());
        Assert.Equal("Partial", _h.Mirror.Get(1)!.FirstName);
        Assert.Contains("simulated Harvest outage", _h.SyncStatus.Current.LastHydrationError, StringComparison.Ordinal);
        Assert.Equal(1, _h.SyncStatus.Current.HydrationsPending);

        // First retry after RetryBaseDelay (10 s), the second after twice that.
        _h.Time.Advance(TimeSpan.FromSeconds(9));
        await _h.HydrateAsync();
        Assert.Single(_harvest.Calls);
        _h.Time.Advance(TimeSpan.FromSeconds(1));
        await _h.HydrateAsync();
        Assert.Equal(2, _harvest.Calls.Count);
        _h.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(1, await _h.HydrateAsync());

        Assert.Equal("Full", _h.Mirror.Get(1)!.FirstName);
        Assert.Null(_h.SyncStatus.Current.LastHydrationError);
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM hydration_queue"));
    }

    [Fact]
    public async Task Candidate_Harvest_no_longer_has_is_deleted_and_a_delete_event_cancels_its_fetch()
    {
        await _h.StoreAsync("e1", ProcessorHarness.Update(1, "c1@example.com"));
        await _h.StoreAsync("e2", ProcessorHarness.Update(2, "c2@example.com"));
        await _h.StoreAsync("d2", """{"action":"delete_candidate","payload":{"person":{"id":2}}}""");
        await _h.ProcessAsync();
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM hydration_queue"));
        _h.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(1, await _h.HydrateAsync());

        Assert.Null(_h.Mirror.Get(1));
        Assert.Equal([1L], Assert.Single(_harvest.Calls));
    }

    [Fact]
    public async Task Merge_fetches_the_winner_and_not_the_loser_even_when_the_winner_was_unknown()
    {
        _harvest.Greenhouse[20] = Full(20, "Winner");
        await _h.StoreAsync("1", ProcessorHarness.Update(10, "loser@example.com"));
        await _h.StoreAsync("2", """{"action":"merge_candidate","payload":{"person":{"id":10,"new_candidate_id":20}}}""");
        await _h.ProcessAsync();
        _h.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(1, await _h.HydrateAsync());
        Assert.Equal([20L], Assert.Single(_harvest.Calls));
        Assert.Equal("Winner", _h.Mirror.Get(20)!.FirstName);
        Assert.Null(_h.Mirror.Get(10));
        Assert.Equal(20, _h.Mirror.SurvivorOf(10));
    }

    [Fact]
    public async Task Anonymisation_rereads_the_candidate_and_a_fetch_of_old_data_stays_anonymised()
    {
        // Harvest still answers with the values from before the anonymisation (a read racing it).
        _harvest.Greenhouse[30] = Full(30, "Jane");
        await _h.StoreAsync("1", ProcessorHarness.Update(30, "c30@example.com", "Jane"));
        await _h.ProcessAsync();
        _h.Time.Advance(TimeSpan.FromSeconds(2));
        await _h.HydrateAsync();
        _harvest.Calls.Clear();

        await _h.StoreAsync("2", """{"action":"candidate_anonymized","payload":{"candidate_id":30,"anonymized_fields":["full_name","email_addresses"]}}""");
        await _h.ProcessAsync();
        Assert.Empty(_h.Mirror.Find(LookupKeyNormalizer.Email("c30@example.com")!.Value));
        _h.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(1, await _h.HydrateAsync());
        Assert.Equal([30L], Assert.Single(_harvest.Calls));
        var candidate = _h.Mirror.Get(30)!;
        Assert.Equal(("Anonymized", "30", "Acme"), (candidate.FirstName, candidate.LastName, candidate.Company));
        Assert.Empty(candidate.EmailAddresses);
        Assert.Empty(_h.Mirror.Find(LookupKeyNormalizer.Email("alt30@example.com")!.Value));
    }
}
