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
}
