using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Tests;

public sealed class MirrorStorageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ghr-mirror-").FullName;

    public void Dispose() => TempFolders.Delete(_root);

    private async Task StoreThreeCandidatesAsync()
    {
        await using var h = await ProcessorHarness.StartAsync(_root);
        await h.StoreAsync("1", ProcessorHarness.Update(1, "one@example.com", "One"));
        await h.StoreAsync("2", ProcessorHarness.Update(2, "two@example.com", "Two"));
        await h.StoreAsync("3", ProcessorHarness.Update(3, "three@example.com", "Three"));
        await h.StoreAsync("4", """{"action":"delete_candidate","payload":{"person":{"id":3}}}""");
        await h.ProcessAsync();
        Assert.Equal(2, h.Mirror.Count);
    }

    [Fact]
    public async Task A_restart_restores_the_indexes_without_reading_records_and_reads_them_on_demand()
    {
        await StoreThreeCandidatesAsync();

        await using var h = await ProcessorHarness.StartAsync(_root);
        Assert.Equal(0, h.Mirror.CachedRecords);
        Assert.Equal(2, h.Mirror.Count);
        Assert.Equal("Two", Assert.Single(h.Mirror.Find(LookupKeyNormalizer.Email("TWO@example.com")!.Value)).FirstName);
        Assert.Empty(h.Mirror.Find(LookupKeyNormalizer.Email("three@example.com")!.Value));
        Assert.Equal(1, h.Mirror.CachedRecords);
        Assert.Equal([1L, 2L], h.Mirror.Page(0, 10, null).Select(c => c.Id));
    }

    [Fact]
    public async Task A_query_page_reads_its_uncached_records_from_disk_in_id_order_without_filling_the_lookup_cache()
    {
        await StoreThreeCandidatesAsync();

        await using var h = await ProcessorHarness.StartAsync(_root);
        Assert.Equal("Two", Assert.Single(h.Mirror.Find(LookupKeyNormalizer.Email("two@example.com")!.Value)).FirstName);
        Assert.Equal(1, h.Mirror.CachedRecords);

        Assert.Equal(["One", "Two"], h.Mirror.Query(new CandidateQuery(), 0, 10).Select(c => c.FirstName));
        Assert.Equal(["Two"], h.Mirror.Query(new CandidateQuery(), 1, 10).Select(c => c.FirstName));
        Assert.Equal(1, h.Mirror.CachedRecords);
    }

    [Fact]
    public async Task Records_and_changes_are_stored_as_json_text_also_from_a_commit_larger_than_the_buffer_kept_between_commits()
    {
        // 130 events of about 10 KB each: the processor's first commit (128 of them) serialises more
        // than the 1 MiB its buffer keeps, the next one starts from a small buffer again.
        var names = Enumerable.Range(1, 130).Select(i => $"N{i}-" + new string((char)('a' + i % 26), 10_000)).ToList();
        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            for (var i = 1; i <= 130; i++)
            {
                await h.StoreAsync($"e{i}", ProcessorHarness.Update(i, $"c{i}@example.com", names[i - 1]));
            }
            await h.StoreAsync("d", """{"action":"delete_candidate","payload":{"person":{"id":130}}}""");
            Assert.Equal(131, await h.ProcessAsync());
            await h.StoreAsync("e131", ProcessorHarness.Update(1, "c1@example.com", "Small"));
            Assert.Equal(1, await h.ProcessAsync());
        }

        await using (var h = await ProcessorHarness.StartAsync(_root))
        {
            Assert.Equal(129, h.Mirror.Count);
            Assert.Equal("Small", h.Mirror.Get(1)!.FirstName);
            for (var i = 2; i <= 129; i++)
            {
                Assert.Equal(names[i - 1], h.Mirror.Get(i)!.FirstName);
            }
            Assert.Null(h.Mirror.Get(130));
        }
        using var db = new SqliteConnection($"Data Source={Path.Combine(_root, "data", ReceiverDatabase.FileName)};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var check = db.CreateCommand();
        check.CommandText = """
            SELECT (SELECT count(*) FROM candidates WHERE typeof(data) = 'text' AND json_valid(data)),
                   (SELECT count(*) FROM changes WHERE typeof(data) = 'text' AND json_valid(data)),
                   (SELECT count(*) FROM changes WHERE data IS NULL),
                   (SELECT json_extract(data, '$.FirstName') FROM changes WHERE candidate_id = 2)
            """;
        using var row = check.ExecuteReader();
        Assert.True(row.Read());
        // 132 changes: the delete has no record, and it redacted the data of candidate 130's earlier change.
        Assert.Equal((129L, 130L, 2L, names[1]), (row.GetInt64(0), row.GetInt64(1), row.GetInt64(2), row.GetString(3)));
    }

    [Fact]
    public async Task A_version_4_database_gets_its_candidate_index_when_the_writer_opens_it()
    {
        await StoreThreeCandidatesAsync();
        using (var db = new SqliteConnection($"Data Source={Path.Combine(_root, "data", ReceiverDatabase.FileName)};Pooling=False"))
        {
            db.Open();
            ReceiverDatabase.Execute(db, "DROP TABLE candidate_index; PRAGMA user_version = 4;");
        }

        await using var h = await ProcessorHarness.StartAsync(_root);
        Assert.Equal(2, h.Mirror.Count);
        Assert.Equal(1, Assert.Single(h.Mirror.Find(LookupKeyNormalizer.Email("one@example.com")!.Value)).Id);
    }

    [Fact]
    public async Task A_read_connection_refuses_a_database_the_writer_has_not_migrated()
    {
        await StoreThreeCandidatesAsync();
        using (var db = new SqliteConnection($"Data Source={Path.Combine(_root, "data", ReceiverDatabase.FileName)};Pooling=False"))
        {
            db.Open();
            ReceiverDatabase.Execute(db, "PRAGMA user_version = 4;");
        }

        Assert.Throws<SqliteException>(() => ReceiverDatabase.Open(Path.Combine(_root, "data"), TimeSpan.FromSeconds(1)));
        using (var db = new SqliteConnection($"Data Source={Path.Combine(_root, "data", ReceiverDatabase.FileName)};Pooling=False"))
        {
            db.Open();
            using var version = db.CreateCommand();
            version.CommandText = "PRAGMA user_version";
            Assert.Equal(4L, version.ExecuteScalar());
        }
    }
}
