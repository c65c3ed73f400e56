using System.IO.Hashing;
using System.Text;
using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Tests;

public sealed class CandidateIndexEntryTests
{
    [Fact]
    public void Key_hashes_are_those_of_the_keys_text_form_that_stored_index_rows_hold()
    {
        // Rows written by earlier versions hashed "email:..." / "url:..." strings: the same bytes must give the same hash.
        foreach (var key in new[] { new LookupKey(LookupKeyKind.Email, "jane@example.com"), new LookupKey(LookupKeyKind.ProfileUrl, "linkedin.com/in/jané"), new LookupKey(LookupKeyKind.Email, new string('a', 2000) + "@x.io") })
        {
            Assert.Equal(XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key.ToString())), CandidateIndexEntry.Hash(key));
        }
    }

    [Fact]
    public void Keys_tags_and_sources_are_distinct_in_first_seen_order_however_many_there_are()
    {
        var tags = Enumerable.Range(0, 40_000).Select(i => $" tag{i % 20_000} ").ToList();
        var record = new CandidateRecord
        {
            Id = 9,
            EmailAddresses = [new("B@x.io", null), new("a@x.io", null), new(" b@X.io", null)],
            SocialMediaAddresses = [new("https://www.linkedin.com/in/jane/", null), new("linkedin.com/in/jane", null)],
            Tags = tags,
            Applications = [new() { Id = 1, Status = "active", Source = "Referral" }, new() { Id = 2, Status = "rejected", Source = " referral" }],
        };
        var entry = CandidateIndexEntry.Of(record);
        Assert.Equal(
            [CandidateIndexEntry.Hash(new LookupKey(LookupKeyKind.Email, "b@x.io")), CandidateIndexEntry.Hash(new LookupKey(LookupKeyKind.Email, "a@x.io")), CandidateIndexEntry.Hash(new LookupKey(LookupKeyKind.ProfileUrl, "linkedin.com/in/jane"))],
            entry.KeyHashes);
        Assert.Equal(Enumerable.Range(0, 20_000).Select(i => $"TAG{i}"), entry.Tags);
        Assert.Equal(["REFERRAL"], entry.Sources);
        Assert.False(entry.NoActiveApplication);
    }

    [Fact]
    public void Key_hashes_follow_the_records_lookup_keys_websites_before_social_media_and_a_bare_record_has_empty_lists()
    {
        var record = new CandidateRecord
        {
            Id = 3,
            EmailAddresses = [new("not an e-mail", null), new("c@x.io", null)],
            WebsiteAddresses = [new("https://jane.dev/about", null), new("@jane", null)],
            SocialMediaAddresses = [new("https://github.com/jane", null), new("jane.dev/about", null)],
        };
        var hashes = CandidateIndexEntry.Of(record).KeyHashes;
        Assert.Equal(record.LookupKeys().Select(CandidateIndexEntry.Hash).Distinct(), hashes);
        Assert.Equal(
            [CandidateIndexEntry.Hash(new LookupKey(LookupKeyKind.Email, "c@x.io")), CandidateIndexEntry.Hash(new LookupKey(LookupKeyKind.ProfileUrl, "jane.dev/about")),
                CandidateIndexEntry.Hash(new LookupKey(LookupKeyKind.ProfileUrl, "github.com/jane"))],
            hashes);

        var bare = CandidateIndexEntry.Of(new CandidateRecord { Id = 4 });
        Assert.Empty(bare.KeyHashes);
        Assert.Empty(bare.Tags);
        Assert.Empty(bare.Sources);
        Assert.True(bare.NoActiveApplication);
        Assert.Null(bare.LatestRejection);
    }
}
