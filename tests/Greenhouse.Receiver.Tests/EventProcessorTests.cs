using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Tests;

public sealed class EventProcessorTests : IAsyncLifetime
{
    private ProcessorHarness _h = null!;

    public async Task InitializeAsync() => _h = await ProcessorHarness.StartAsync();

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        TempFolders.Delete(_h.Root);
    }

    private long Scalar(string sql)
    {
        using var db = ReceiverDatabase.Open(_h.Options.DataDirectory, TimeSpan.FromSeconds(1));
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Duplicate_event_id_is_acknowledged_but_not_processed_twice()
    {
        Assert.Equal(InboxWriteResult.Accepted, await _h.StoreAsync("e1", ProcessorHarness.Update(1, "a@example.com")));
        Assert.Equal(InboxWriteResult.Duplicate, await _h.StoreAsync("e1", ProcessorHarness.Update(1, "a@example.com")));
        Assert.Equal(1, await _h.ProcessAsync());
        Assert.Equal(InboxWriteResult.Duplicate, await _h.StoreAsync("e1", ProcessorHarness.Update(1, "a@example.com")));
        Assert.Equal(0, await _h.ProcessAsync());
        Assert.Equal(1, _h.Metrics.Processed);
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM changes"));
    }

    [Fact]
    public async Task Concurrent_stores_share_commits_and_each_learns_its_own_outcome()
    {
        var writes = Enumerable.Range(0, 200).Select(i => _h.StoreAsync($"c{i % 150}", ProcessorHarness.Update(i, $"c{i}@example.com"))).ToArray();
        var results = await Task.WhenAll(writes);
        Assert.Equal(150, results.Count(r => r == InboxWriteResult.Accepted));
        Assert.Equal(50, results.Count(r => r == InboxWriteResult.Duplicate));
        // Rows go into the inbox table in batches after the answers.
        await _h.Inbox.IndexAsync();
        Assert.Equal(150, Scalar("SELECT COUNT(*) FROM inbox"));
    }

    [Fact]
    public async Task Events_apply_to_the_mirror_and_lookup_finds_normalised_keys()
    {
        await _h.StoreAsync("e1", ProcessorHarness.Update(1, "Jane@Example.com", "Jane"));
        await _h.StoreAsync("e2", ProcessorHarness.Update(1, "jane@new.example", "Janet"));
        await _h.ProcessAsync();
        Assert.Equal("Janet", _h.Mirror.Get(1)!.FirstName);
        Assert.Empty(_h.Mirror.Find(LookupKeyNormalizer.Email("jane@example.com")!.Value));
        Assert.Equal(1, Assert.Single(_h.Mirror.Find(LookupKeyNormalizer.Email("JANE@new.example")!.Value)).Id);
        Assert.Equal(2, _h.Mirror.LastChangeNumber);
    }

    [Fact]
    public async Task Poison_event_is_dead_lettered_at_once_and_does_not_block_others()
    {
        await _h.StoreAsync("bad", """{"action":"update_candidate","payload":{"candidate":{"first_name":"no id"}}}""");
        await _h.StoreAsync("good", ProcessorHarness.Update(6, "g@example.com"));
        Assert.Equal(2, await _h.ProcessAsync());
        Assert.NotNull(_h.Mirror.Get(6));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM dead_letters WHERE event_id = 'bad' AND reason = 'candidate has no numeric id'"));
    }

    [Fact]
    public async Task Delete_merge_and_anonymise_apply_to_the_mirror_and_survive_a_reload()
    {
        await _h.StoreAsync("1", ProcessorHarness.Update(1, "one@example.com"));
        await _h.StoreAsync("2", ProcessorHarness.Update(2, "two@example.com"));
        await _h.StoreAsync("3", ProcessorHarness.Update(3, "three@example.com", "Three"));
        await _h.StoreAsync("4", """{"action":"merge_candidate","payload":{"person":{"id":1,"new_candidate_id":2}}}""");
        await _h.StoreAsync("5", """{"action":"delete_candidate","payload":{"person":{"id":3}}}""");
        await _h.StoreAsync("6", """{"action":"candidate_anonymized","payload":{"candidate_id":2,"anonymized_fields":["full_name"]}}""");
        await _h.ProcessAsync();

        var fresh = await ProcessorHarness.StartAsync(_h.Root);
        try
        {
            foreach (var mirror in new[] { _h.Mirror, fresh.Mirror })
            {
                Assert.Null(mirror.Get(1));
                Assert.Null(mirror.Get(3));
                Assert.Equal(2, mirror.SurvivorOf(1));
                Assert.Empty(mirror.Find(LookupKeyNormalizer.Email("one@example.com")!.Value));
                Assert.Equal([1L], mirror.MergedInto(2));
                Assert.Equal(["full_name"], mirror.Get(2)!.AnonymizedFields);
                Assert.Equal(("Anonymized", "2"), (mirror.Get(2)!.FirstName, mirror.Get(2)!.LastName));
                Assert.Equal(1, mirror.Count);
                Assert.Equal(_h.Mirror.LastChangeNumber, mirror.LastChangeNumber);
            }
        }
        finally
        {
            await fresh.DisposeAsync();
        }
    }

    [Fact]
    public async Task Merge_before_the_winner_is_known_removes_the_loser_and_the_winner_answers_for_it_once_it_arrives()
    {
        await _h.StoreAsync("1", ProcessorHarness.Update(37031511, "jack@example.com"));
        await _h.StoreAsync("2", """{"action":"merge_candidate","payload":{"person":{"id":37031511,"first_name":"Jack","new_candidate_id":457456}}}""");
        await _h.ProcessAsync();
        Assert.Null(_h.Mirror.Get(37031511));
        Assert.Empty(_h.Mirror.Find(LookupKeyNormalizer.Email("jack@example.com")!.Value));
        Assert.Equal(457456, _h.Mirror.SurvivorOf(37031511));
        Assert.Null(_h.Mirror.Get(457456));

        await _h.StoreAsync("3", ProcessorHarness.Update(457456, "sparrow@example.com"));
        await _h.ProcessAsync();
        Assert.Equal(457456, _h.Mirror.Get(_h.Mirror.SurvivorOf(37031511)!.Value)!.Id);
        Assert.Equal([37031511L], _h.Mirror.MergedInto(457456));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM dead_letters") + Scalar("SELECT COUNT(*) FROM inbox WHERE state = 0"));
    }

    [Fact]
    public async Task Anonymised_address_stops_matching_as_soon_as_the_event_is_applied()
    {
        await _h.StoreAsync("1", ProcessorHarness.Update(5, "private@example.com", "Jane"));
        await _h.StoreAsync("2", """{"action":"candidate_anonymized","payload":{"candidate_id":5,"anonymized_fields":["emails"]}}""");
        await _h.ProcessAsync();
        Assert.Equal(5, Assert.Single(_h.Mirror.Find(LookupKeyNormalizer.Email("private@example.com")!.Value)).Id);

        await _h.StoreAsync("3", """{"action":"candidate_anonymized","payload":{"candidate_id":5,"anonymized_fields":["full_name","email_addresses"]}}""");
        await _h.ProcessAsync();
        Assert.Empty(_h.Mirror.Find(LookupKeyNormalizer.Email("private@example.com")!.Value));
        Assert.Equal(("Anonymized", "5"), (_h.Mirror.Get(5)!.FirstName, _h.Mirror.Get(5)!.LastName));
        Assert.Equal(["emails", "full_name", "email_addresses"], _h.Mirror.Get(5)!.AnonymizedFields);
    }

    [Fact]
    public async Task A_storage_failure_is_transient_the_events_stay_pending_and_apply_on_a_later_pass()
    {
        await _h.StoreAsync("t1", ProcessorHarness.Update(8, "eight@example.com"));
        using (var blocker = ReceiverDatabase.Open(_h.Options.DataDirectory, TimeSpan.FromSeconds(1)))
        {
            // Another writer holds the database past the commit timeout: the pass cannot commit.
            using var tx = blocker.BeginTransaction(deferred: false);
            await Assert.ThrowsAsync<SqliteException>(() => _h.ProcessAsync());
            tx.Rollback();
        }
        Assert.Null(_h.Mirror.Get(8));
        await _h.Inbox.IndexAsync();
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM inbox WHERE state = 0"));

        Assert.Equal(1, await _h.ProcessAsync());
        Assert.NotNull(_h.Mirror.Get(8));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM dead_letters"));
    }

    [Fact]
    public async Task Non_candidate_events_are_recorded_and_counted()
    {
        await _h.StoreAsync("j", """{"action":"job_created","payload":{"job":{"id":1}}}""");
        await _h.ProcessAsync();
        Assert.Equal(1, _h.Metrics.Processed);
        Assert.Equal(0, _h.Mirror.LastChangeNumber);
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM inbox WHERE state = 1 AND action = 'job_created'"));
    }

    [Fact]
    public async Task Processed_events_are_pruned_after_the_retention_window()
    {
        await _h.StoreAsync("old", ProcessorHarness.Update(1, "a@example.com"));
        await _h.ProcessAsync();
        _h.Time.Advance(TimeSpan.FromDays(6));
        await _h.StoreAsync("new", ProcessorHarness.Update(2, "b@example.com"));
        await _h.ProcessAsync();
        Assert.Equal(0, await _h.Maintenance.PruneAsync(_h.Time.GetUtcNow()));
        _h.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await _h.Maintenance.PruneAsync(_h.Time.GetUtcNow()));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM changes"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM inbox"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM inbox WHERE event_id = 'new'"));
        Assert.NotNull(_h.Mirror.Get(1));
        // The dedupe window is the retention window: a pruned id is forgotten, a kept one is not.
        Assert.Equal(InboxWriteResult.Duplicate, await _h.StoreAsync("new", ProcessorHarness.Update(2, "b@example.com")));
        Assert.Equal(InboxWriteResult.Accepted, await _h.StoreAsync("old", ProcessorHarness.Update(1, "a@example.com")));
    }

    [Fact]
    public async Task Completed_write_back_ids_are_pruned_after_the_retention_window_but_in_doubt_ones_are_kept()
    {
        var now = _h.Time.GetUtcNow();
        var old = (now - TimeSpan.FromDays(8)).ToUnixTimeMilliseconds();
        using (var db = ReceiverDatabase.Open(_h.Options.DataDirectory, TimeSpan.FromSeconds(1)))
        {
            ReceiverDatabase.Execute(db, $"""
                INSERT INTO writeback_outbox(request_id, operation, request_hash, state, created_at, completed_at) VALUES
                    ('done-old', 'add_note', 'h', 1, {old}, {old}),
                    ('done-new', 'add_note', 'h', 1, {old}, {now.ToUnixTimeMilliseconds()}),
                    ('in-doubt', 'add_note', 'h', 0, {old}, NULL);
                """);
        }

        await _h.Maintenance.PruneAsync(now);

        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM writeback_outbox WHERE request_id = 'done-old'"));
        Assert.Equal(2, Scalar("SELECT COUNT(*) FROM writeback_outbox"));
    }

    [Fact]
    public async Task A_locked_database_does_not_hold_up_deliveries_and_their_rows_go_in_once_it_is_free()
    {
        using (var db = new SqliteConnection($"Data Source={Path.Combine(_h.Options.DataDirectory, ReceiverDatabase.FileName)}"))
        {
            db.Open();
            using var tx = db.BeginTransaction();
            ReceiverDatabase.Execute(db, "INSERT INTO candidates(id, data) VALUES (-1, '{}')", tx);
            // Another connection holds the write lock past Storage:CommitTimeout (2 s). A delivery is
            // durable once it is in the inbox log, so it is answered at once, and only its row waits.
            var answered = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(InboxWriteResult.Accepted, await _h.StoreAsync("locked", ProcessorHarness.Update(1, "a@example.com")));
            Assert.True(answered.Elapsed < TimeSpan.FromSeconds(1), $"answered after {answered.Elapsed}");
            Assert.Equal(InboxWriteResult.Duplicate, await _h.StoreAsync("locked", ProcessorHarness.Update(1, "a@example.com")));
            await Assert.ThrowsAsync<SqliteException>(() => _h.Inbox.IndexAsync());
            Assert.Equal(0, Scalar("SELECT COUNT(*) FROM inbox"));
        }
        await _h.Inbox.IndexAsync();
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM inbox WHERE state = 0"));
        Assert.Equal(1, await _h.ProcessAsync());
        Assert.NotNull(_h.Mirror.Get(1));
        Assert.True(_h.Inbox.IsHealthy);
    }
}
