using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Tests;

public sealed class CandidateMirrorTests
{
    /// <summary>The records "on disk" for the index tests; the database-backed reader is covered by the processor tests.</summary>
    private sealed class Records : ICandidateRecordReader
    {
        public Dictionary<long, CandidateRecord> Stored { get; } = [];

        public CandidateRecord? Read(long id) => Stored.GetValueOrDefault(id);

        public IReadOnlyList<CandidateRecord> ReadPage(long afterId, int size, DateTimeOffset? updatedSince) =>
            [.. Stored.Values.Where(c => c.Id > afterId && (updatedSince is null || c.UpdatedAt >= updatedSince)).OrderBy(c => c.Id).Take(size)];
    }

    /// <summary>A mirror over <see cref="Records"/> with publish helpers that write the record first, as a commit does.</summary>
    private sealed class Mirror
    {
        public Records Disk { get; } = new();
        public CandidateMirror View { get; private set; } = null!;

        public static Mirror Create(int cacheRecords = CandidateMirror.DefaultCacheRecords)
        {
            var mirror = new Mirror();
            mirror.View = new CandidateMirror(mirror.Disk, cacheRecords);
            return mirror;
        }

        public void Put(CandidateRecord candidate)
        {
            var previous = View.Get(candidate.Id);
            Disk.Stored[candidate.Id] = candidate;
            View.Put(candidate, previous);
        }

        public void Remove(long id)
        {
            var previous = View.Get(id);
            Disk.Stored.Remove(id);
            View.Remove(id, previous);
        }

        public CandidateRecord? Get(long id) => View.Get(id);
        public IReadOnlyList<CandidateRecord> Find(LookupKey key) => View.Find(key);
        public IReadOnlyList<CandidateRecord> Query(CandidateQuery query, long after, int size) => View.Query(query, after, size);
        public IReadOnlyList<CandidateRecord> Page(long after, int size, DateTimeOffset? since) => View.Page(after, size, since);
        public void RecordMerge(long loser, long survivor) => View.RecordMerge(loser, survivor);
        public IReadOnlyCollection<long> MergedInto(long id) => View.MergedInto(id);
    }

    private static LookupKey Email(string value) => LookupKeyNormalizer.Email(value)!.Value;

    private static LookupKey Url(string value) => LookupKeyNormalizer.ProfileUrl(value)!.Value;

    [Fact]
    public void Update_that_keeps_the_addresses_stays_findable_and_returns_the_new_record()
    {
        var mirror = Mirror.Create();
        var first = new CandidateRecord { Id = 1, FirstName = "Jane", EmailAddresses = [new("jane@example.com", "personal")], WebsiteAddresses = [new("https://github.com/jane", null)] };
        mirror.Put(first);

        // New list instances with the same values, as every parsed webhook produces.
        mirror.Put(first with { FirstName = "Janet", EmailAddresses = [new("jane@example.com", "work")], WebsiteAddresses = [new("https://github.com/jane", null)] });

        Assert.Equal("Janet", Assert.Single(mirror.Find(Email("jane@example.com"))).FirstName);
        Assert.Equal("Janet", Assert.Single(mirror.Find(Url("github.com/jane"))).FirstName);
    }

    [Fact]
    public void Update_that_changes_an_address_moves_the_lookup_key()
    {
        var mirror = Mirror.Create();
        var first = new CandidateRecord { Id = 1, EmailAddresses = [new("jane@example.com", null)], SocialMediaAddresses = [new("linkedin.com/in/jane", null)] };
        mirror.Put(first);

        mirror.Put(first with { EmailAddresses = [new("jane@new.example", null)], SocialMediaAddresses = [] });

        Assert.Empty(mirror.Find(Email("jane@example.com")));
        Assert.Empty(mirror.Find(Url("linkedin.com/in/jane")));
        Assert.Equal(1, Assert.Single(mirror.Find(Email("jane@new.example"))).Id);
    }

    [Fact]
    public void Query_indexes_follow_updates_merges_and_removals_and_page_from_the_cursor()
    {
        var mirror = Mirror.Create();
        var cut = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var id = 1; id <= 5; id++)
        {
            mirror.Put(new CandidateRecord
            {
                Id = id, Tags = ["Alumni"],
                Applications = [new ApplicationRecord { Id = 100 + id, Status = "active", Source = "LinkedIn" }],
            });
        }
        var query = new CandidateQuery { RejectedBefore = cut, Tag = "alumni", NoActiveApplication = true, Source = "linkedin" };
        Assert.Empty(mirror.Query(query, 0, 10));

        foreach (var id in new long[] { 2, 3, 5 })
        {
            mirror.Put(mirror.Get(id)! with { Applications = [new ApplicationRecord { Id = 100 + id, Status = "rejected", RejectedAt = cut.AddDays(-10), Source = "LinkedIn" }] });
        }
        Assert.Equal([2L, 3L, 5L], mirror.Query(query, 0, 10).Select(c => c.Id));
        Assert.Equal([3L, 5L], mirror.Query(query, 2, 10).Select(c => c.Id));
        Assert.Equal([2L], mirror.Query(query, 0, 1).Select(c => c.Id));
        Assert.Empty(mirror.Query(query with { RejectedBefore = cut.AddDays(-20) }, 0, 10));

        mirror.Put(mirror.Get(3)! with { Tags = [] });
        mirror.Remove(5);
        mirror.RecordMerge(2, 4);
        Assert.Equal([2L], mirror.Query(query, 0, 10).Select(c => c.Id));
        Assert.Equal([2L], mirror.MergedInto(4));
        Assert.Equal([1L, 2L, 3L, 4L], mirror.Page(0, 10, null).Select(c => c.Id));
        Assert.Equal([3L, 4L], mirror.Page(2, 10, null).Select(c => c.Id));
    }

    [Fact]
    public void Records_are_read_from_disk_and_only_a_bounded_number_stay_cached()
    {
        var mirror = Mirror.Create(cacheRecords: 2);
        for (var id = 1; id <= 5; id++)
        {
            mirror.Put(new CandidateRecord { Id = id, FirstName = $"n{id}", EmailAddresses = [new($"c{id}@example.com", null)] });
        }
        Assert.Equal(2, mirror.View.CachedRecords);
        // A record not in the cache comes from the disk, and a changed disk copy is what a cold read sees.
        mirror.Disk.Stored[1] = mirror.Disk.Stored[1] with { FirstName = "from disk" };
        Assert.Equal("from disk", mirror.Get(1)!.FirstName);
        Assert.Equal(3, Assert.Single(mirror.Find(Email("C3@example.com"))).Id);
        Assert.Equal(2, mirror.View.CachedRecords);
        Assert.Equal(5, mirror.View.Count);
    }

    [Fact]
    public void A_key_shared_by_two_candidates_finds_both_until_one_lets_it_go()
    {
        var mirror = Mirror.Create(cacheRecords: 0);
        var first = new CandidateRecord { Id = 1, EmailAddresses = [new("team@example.com", null)] };
        mirror.Put(first);
        mirror.Put(new CandidateRecord { Id = 2, EmailAddresses = [new("Team@Example.com", null)] });
        Assert.Equal([1L, 2L], mirror.Find(Email("team@example.com")).Select(c => c.Id).Order());

        mirror.Put(first with { EmailAddresses = [new("one@example.com", null)] });
        Assert.Equal(2, Assert.Single(mirror.Find(Email("team@example.com"))).Id);
        mirror.Remove(2);
        Assert.Empty(mirror.Find(Email("team@example.com")));
        Assert.Equal(1, Assert.Single(mirror.Find(Email("one@example.com"))).Id);
    }

    [Fact]
    public void A_hash_whose_record_does_not_hold_the_key_is_not_a_match()
    {
        var mirror = Mirror.Create(cacheRecords: 0);
        mirror.Put(new CandidateRecord { Id = 7, EmailAddresses = [new("seven@example.com", null)] });
        // The disk copy no longer holds the key the index was built from (as for two keys with one hash).
        mirror.Disk.Stored[7] = mirror.Disk.Stored[7] with { EmailAddresses = [new("other@example.com", null)] };
        Assert.Equal([7L], mirror.View.CandidateIdsFor(Email("seven@example.com")));
        Assert.Empty(mirror.Find(Email("seven@example.com")));
    }

    [Fact]
    public void Restore_rebuilds_lookups_and_queries_from_index_entries_without_reading_records()
    {
        var source = Mirror.Create();
        source.Put(new CandidateRecord { Id = 4, Tags = ["Alumni"], EmailAddresses = [new("four@example.com", null)] });
        source.Put(new CandidateRecord { Id = 9, Tags = ["Other"], SocialMediaAddresses = [new("https://www.linkedin.com/in/nine/", null)] });
        var reads = new CountingRecords(source.Disk);
        var restored = new CandidateMirror(reads);

        restored.Restore(source.Disk.Stored.Values.OrderBy(c => c.Id).Select(CandidateIndexEntry.Of), 2, 2);

        Assert.Equal(0, reads.Count);
        Assert.Equal(2, restored.Count);
        Assert.Equal(9, Assert.Single(restored.Find(Url("linkedin.com/in/nine"))).Id);
        Assert.Equal([4L], restored.Query(new CandidateQuery { Tag = "alumni" }, 0, 10).Select(c => c.Id));
    }

    private sealed class CountingRecords(Records inner) : ICandidateRecordReader
    {
        public int Count { get; private set; }

        public CandidateRecord? Read(long id)
        {
            Count++;
            return inner.Read(id);
        }

        public IReadOnlyList<CandidateRecord> ReadPage(long afterId, int size, DateTimeOffset? updatedSince) => inner.ReadPage(afterId, size, updatedSince);
    }
}
