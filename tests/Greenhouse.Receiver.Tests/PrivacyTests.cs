using System.Globalization;
using System.Text;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;

namespace Greenhouse.Receiver.Tests;

/// <summary>Deletions and anonymisations stay in force, and the removed values leave the data directory.</summary>
public sealed class PrivacyTests : IAsyncLifetime
{
    private ProcessorHarness _h = null!;

    public async Task InitializeAsync() => _h = await ProcessorHarness.StartAsync();

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        TempFolders.Delete(_h.Root);
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string Delete(long id) =>
        "{\"action\":\"delete_candidate\",\"payload\":{\"person\":{\"id\":" + Id(id) + ",\"first_name\":\"Zebulonia\"}}}";

    private static string Merge(long loser, long survivor) =>
        "{\"action\":\"merge_candidate\",\"payload\":{\"person\":{\"id\":" + Id(loser) + ",\"new_candidate_id\":" + Id(survivor) + "}}}";

    private static string Anonymize(long id, params string[] fields) =>
        "{\"action\":\"candidate_anonymized\",\"payload\":{\"candidate_id\":" + Id(id) + ",\"anonymized_fields\":[" + string.Join(',', fields.Select(f => $"\"{f}\"")) + "]}}";

    /// <summary>An event about the candidate that can never apply (dead letter), carrying the e-mail in its body.</summary>
    private static string PoisonMentioning(long id, string email) =>
        "{\"action\":\"candidate_anonymized\",\"payload\":{\"candidate_id\":" + Id(id) + ",\"contact\":\"" + email + "\",\"anonymized_fields\":\"not a list\"}}";

    /// <summary>Files under the data directory (database, WAL, inbox-log segments, anything) whose bytes contain <paramref name="value"/>.</summary>
    private List<string> FilesContaining(string value)
    {
        var needle = Encoding.UTF8.GetBytes(value);
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(_h.Options.DataDirectory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            if (copy.GetBuffer().AsSpan(0, (int)copy.Length).IndexOf(needle) >= 0)
            {
                found.Add(Path.GetRelativePath(_h.Options.DataDirectory, file));
            }
        }
        return found;
    }

    /// <summary>The change stream from 0 as the API serves it: (number, kind, data).</summary>
    private List<(long Number, int Kind, string? Data)> Changes()
    {
        using var db = ReceiverDatabase.Open(_h.Options.DataDirectory, TimeSpan.FromSeconds(1));
        using var command = db.CreateCommand();
        command.CommandText = "SELECT change_number, kind, data FROM changes WHERE change_number > 0 ORDER BY change_number";
        using var reader = command.ExecuteReader();
        var result = new List<(long, int, string?)>();
        while (reader.Read())
        {
            result.Add((reader.GetInt64(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }
        return result;
    }

    /// <summary>The processor's pass after some time: maintenance (the WAL truncation) is due by then.</summary>
    private async Task TwoMinutesLaterAsync()
    {
        _h.Time.Advance(TimeSpan.FromMinutes(2));
        await _h.ProcessAsync();
    }

    [Fact]
    public async Task Deleted_candidate_stays_deleted_when_its_old_signed_update_comes_back_with_a_new_event_id()
    {
        var update = ProcessorHarness.Update(101, "old.update@example.com", "Jack");
        await _h.StoreAsync("u1", update);
        await _h.ProcessAsync();
        await _h.StoreAsync("d1", Delete(101));
        await _h.ProcessAsync();

        Assert.Equal(InboxWriteResult.Accepted, await _h.StoreAsync("u1-retried-after-503", update));
        await _h.ProcessAsync();

        Assert.Null(_h.Mirror.Get(101));
        Assert.Empty(_h.Mirror.Find(LookupKeyNormalizer.Email("old.update@example.com")!.Value));
        Assert.Equal(1, _h.Metrics.IgnoredUpdates(TombstoneStore.Deleted));
        Assert.Equal(TombstoneStore.Deleted, _h.Tombstones.ReasonFor(101));
    }

    [Fact]
    public async Task Delete_and_a_later_update_in_the_same_pass_leave_the_candidate_deleted()
    {
        await _h.StoreAsync("u1", ProcessorHarness.Update(102, "same.pass@example.com"));
        await _h.ProcessAsync();
        await _h.StoreAsync("d1", Delete(102));
        await _h.StoreAsync("u2", ProcessorHarness.Update(102, "same.pass@example.com"));
        await _h.ProcessAsync();
        Assert.Null(_h.Mirror.Get(102));
        Assert.Equal(1, _h.Metrics.IgnoredUpdates(TombstoneStore.Deleted));
    }

    [Fact]
    public async Task Merged_away_candidate_is_not_recreated_by_an_old_update()
    {
        await _h.StoreAsync("u1", ProcessorHarness.Update(201, "loser@example.com", "Lou"));
        await _h.StoreAsync("u2", ProcessorHarness.Update(202, "survivor@example.com", "Sue"));
        await _h.ProcessAsync();
        await _h.StoreAsync("m1", Merge(201, 202));
        await _h.ProcessAsync();

        await _h.StoreAsync("u1-again", ProcessorHarness.Update(201, "loser@example.com", "Lou"));
        await _h.ProcessAsync();

        Assert.Null(_h.Mirror.Get(201));
        Assert.Equal(202, _h.Mirror.SurvivorOf(201));
        Assert.Equal(1, _h.Metrics.IgnoredUpdates(TombstoneStore.MergedAway));
    }

    [Fact]
    public async Task Tombstones_survive_a_restart()
    {
        await _h.StoreAsync("u1", ProcessorHarness.Update(301, "restart@example.com"));
        await _h.ProcessAsync();
        await _h.StoreAsync("d1", Delete(301));
        await _h.ProcessAsync();
        var root = _h.Root;
        await _h.DisposeAsync();

        _h = await ProcessorHarness.StartAsync(root);
        await _h.StoreAsync("u1-after-restart", ProcessorHarness.Update(301, "restart@example.com"));
        await _h.ProcessAsync();
        Assert.Null(_h.Mirror.Get(301));
        Assert.Equal(1, _h.Metrics.IgnoredUpdates(TombstoneStore.Deleted));
    }

    [Fact]
    public async Task Only_a_Harvest_read_returning_the_candidate_revives_a_tombstoned_id()
    {
        await _h.StoreAsync("u1", ProcessorHarness.Update(401, "revive@example.com", "Rae"));
        await _h.ProcessAsync();
        await _h.StoreAsync("d1", Delete(401));
        await _h.ProcessAsync();

        // What hydration and sweeps write when Harvest returns the candidate.
        await _h.ApplySyncChangesAsync(new MirrorChange(CandidateChangeKind.Upserted, 401, new CandidateRecord { Id = 401, FirstName = "Rae" }));
        Assert.Null(_h.Tombstones.ReasonFor(401));

        await _h.StoreAsync("u2", ProcessorHarness.Update(401, "revive@example.com", "Rachel"));
        await _h.ProcessAsync();
        Assert.Equal("Rachel", _h.Mirror.Get(401)!.FirstName);
        Assert.Equal(0, _h.Metrics.IgnoredUpdates(TombstoneStore.Deleted));
    }

    [Fact]
    public async Task Anonymised_fields_stay_anonymised_when_an_old_update_comes_back()
    {
        var update = ProcessorHarness.Update(501, "anon.me@example.com", "Zebulonia");
        await _h.StoreAsync("u1", update);
        await _h.ProcessAsync();
        await _h.StoreAsync("a1", Anonymize(501, "full_name", "email_addresses"));
        await _h.ProcessAsync();

        await _h.StoreAsync("u1-replayed", update);
        await _h.ProcessAsync();

        var candidate = _h.Mirror.Get(501)!;
        Assert.Equal("Anonymized", candidate.FirstName);
        Assert.Equal("501", candidate.LastName);
        Assert.Empty(candidate.EmailAddresses);
        Assert.Equal(["full_name", "email_addresses"], candidate.AnonymizedFields);
        Assert.Empty(_h.Mirror.Find(LookupKeyNormalizer.Email("anon.me@example.com")!.Value));

        // A field that was not anonymised still updates.
        await _h.StoreAsync("u3", "{\"action\":\"update_candidate\",\"payload\":{\"candidate\":{\"id\":501,\"title\":\"Engineer\",\"first_name\":\"Zebulonia\"}}}");
        await _h.ProcessAsync();
        Assert.Equal("Engineer", _h.Mirror.Get(501)!.Title);
        Assert.Equal("Anonymized", _h.Mirror.Get(501)!.FirstName);
    }

    [Fact]
    public async Task Within_two_minutes_of_a_delete_no_file_in_the_data_directory_holds_the_email_and_the_change_stream_does_not_show_it()
    {
        const string email = "gone.person.7741@example.com";
        await _h.StoreAsync("u1", ProcessorHarness.Update(601, email, "Zebulonia"));
        await _h.StoreAsync("u2", ProcessorHarness.Update(602, "stays.person@example.com", "Kept"));
        await _h.StoreAsync("p1", PoisonMentioning(601, email));
        await _h.ProcessAsync();
        Assert.NotEmpty(FilesContaining(email));
        Assert.Equal(1, _h.Metrics.Failed);

        await _h.StoreAsync("d1", Delete(601));
        await _h.ProcessAsync();
        await TwoMinutesLaterAsync();

        Assert.Empty(FilesContaining(email));
        Assert.Empty(FilesContaining("Zebulonia"));
        var changes = Changes();
        Assert.DoesNotContain(changes, c => c.Data?.Contains(email, StringComparison.Ordinal) == true);
        // Numbers and kinds stay, so a watcher's position is still valid: upsert, upsert, delete.
        Assert.Equal([(1L, 1), (2L, 1), (3L, 2)], changes.Select(c => (c.Number, c.Kind)));
        Assert.Null(changes[0].Data);
        // Other people's data is untouched.
        Assert.NotEmpty(FilesContaining("stays.person@example.com"));
        Assert.Equal("Kept", _h.Mirror.Get(602)!.FirstName);
    }

    [Fact]
    public async Task Within_two_minutes_of_an_anonymisation_no_file_holds_the_anonymised_values_even_after_a_replayed_update()
    {
        const string email = "anon.person.9932@example.com";
        var update = ProcessorHarness.Update(701, email, "Quillane");
        await _h.StoreAsync("u1", update);
        await _h.ProcessAsync();
        await _h.StoreAsync("a1", Anonymize(701, "full_name", "email_addresses"));
        await _h.ProcessAsync();
        await _h.StoreAsync("u1-replayed", update);
        await _h.ProcessAsync();
        await TwoMinutesLaterAsync();

        Assert.Empty(FilesContaining(email));
        Assert.Empty(FilesContaining("Quillane"));
        Assert.DoesNotContain(Changes(), c => c.Data?.Contains(email, StringComparison.Ordinal) == true);
        Assert.NotNull(_h.Mirror.Get(701));
    }

    [Fact]
    public async Task Dead_letters_are_pruned_after_their_retention_with_their_event_ids_and_do_not_point_into_the_log()
    {
        await _h.StoreAsync("p1", PoisonMentioning(801, "dead.letter@example.com"));
        await _h.ProcessAsync();
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM dead_letters"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM inbox WHERE body_segment IS NOT NULL"));

        await _h.Maintenance.PruneAsync(_h.Time.GetUtcNow() + TimeSpan.FromDays(13));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM dead_letters"));
        await _h.Maintenance.PruneAsync(_h.Time.GetUtcNow() + TimeSpan.FromDays(15));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM dead_letters"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM inbox"));
        // Its id is forgotten with it: the same id is a new delivery again.
        Assert.Equal(InboxWriteResult.Accepted, await _h.StoreAsync("p1", PoisonMentioning(801, "dead.letter@example.com")));
    }

    private long Scalar(string sql)
    {
        using var db = ReceiverDatabase.Open(_h.Options.DataDirectory, TimeSpan.FromSeconds(1));
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
