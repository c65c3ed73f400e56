using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Tests;

public sealed class CandidateMirrorTests
{
    private static LookupKey Email(string value) => LookupKeyNormalizer.Email(value)!.Value;

    private static LookupKey Url(string value) => LookupKeyNormalizer.ProfileUrl(value)!.Value;

    [Fact]
    public void Update_that_keeps_the_addresses_stays_findable_and_returns_the_new_record()
    {
        var mirror = new CandidateMirror();
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
        var mirror = new CandidateMirror();
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
        var mirror = new CandidateMirror();
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
}
