using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Tests;

public sealed class LookupKeyNormalizerTests
{
    [Theory]
    [InlineData("Jane.Doe@Example.COM", "jane.doe@example.com")]
    [InlineData("  jane@example.com \n", "jane@example.com")]
    [InlineData("mailto:Jane@Example.com", "jane@example.com")]
    public void Emails_are_reduced_to_one_lowercase_key(string input, string expected)
    {
        Assert.Equal(new LookupKey(LookupKeyKind.Email, expected), LookupKeyNormalizer.Email(input));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not an email")]
    [InlineData("@example.com")]
    [InlineData("jane@")]
    [InlineData("a@b@c")]
    public void Values_that_are_not_emails_give_no_key(string input)
    {
        Assert.Null(LookupKeyNormalizer.Email(input));
    }

    [Theory]
    [InlineData("https://www.linkedin.com/in/JaneDoe/", "linkedin.com/in/janedoe")]
    [InlineData("http://linkedin.com/in/janedoe?trk=profile", "linkedin.com/in/janedoe")]
    [InlineData("linkedin.com/in/janedoe", "linkedin.com/in/janedoe")]
    [InlineData("https://uk.linkedin.com/in/janedoe/details/experience", "linkedin.com/in/janedoe")]
    [InlineData("https://m.linkedin.com/in/janedoe#about", "linkedin.com/in/janedoe")]
    [InlineData("https://github.com/JaneDoe", "github.com/janedoe")]
    [InlineData("http://www.github.com/janedoe/some-repo/", "github.com/janedoe")]
    [InlineData("https://angel.co/u/jane-doe", "wellfound.com/u/jane-doe")]
    [InlineData("https://angel.co/jane-doe", "wellfound.com/u/jane-doe")]
    [InlineData("https://wellfound.com/u/Jane-Doe/", "wellfound.com/u/jane-doe")]
    [InlineData("https://www.janedoe.dev/About/?utm_source=x", "janedoe.dev/about")]
    [InlineData("JaneDoe.dev", "janedoe.dev")]
    [InlineData("HTTP://WWW.JANEDOE.DEV/", "janedoe.dev")]
    public void Profile_urls_are_reduced_to_one_key(string input, string expected)
    {
        Assert.Equal(new LookupKey(LookupKeyKind.ProfileUrl, expected), LookupKeyNormalizer.ProfileUrl(input));
    }

    [Theory]
    [InlineData("")]
    [InlineData("@ronaldronnie99999")]
    [InlineData("just words")]
    [InlineData("ftp://files.example.com/x")]
    public void Values_that_are_not_web_urls_give_no_key(string input)
    {
        Assert.Null(LookupKeyNormalizer.ProfileUrl(input));
    }

    [Fact]
    public void Different_profiles_on_the_same_site_stay_different()
    {
        Assert.NotEqual(LookupKeyNormalizer.ProfileUrl("linkedin.com/in/jane"), LookupKeyNormalizer.ProfileUrl("linkedin.com/in/john"));
    }
}
