namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// Reduces e-mails and profile URLs to the form two spellings of the same identity share:
/// case, surrounding spaces, <c>mailto:</c>; for URLs the scheme, <c>www.</c>/<c>m.</c>/country
/// prefixes, query, fragment and trailing slash are dropped, and known profile sites are reduced
/// to their profile path (LinkedIn <c>/in/x</c>, GitHub <c>/x</c>, AngelList = Wellfound <c>/u/x</c>).
/// </summary>
public static class LookupKeyNormalizer
{
    public static LookupKey? Email(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var text = value.Trim();
        if (text.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            text = text["mailto:".Length..];
        }
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1 || HasWhiteSpace(text) || text.IndexOf('@') != at)
        {
            return null;
        }
        return new LookupKey(LookupKeyKind.Email, text.ToLowerInvariant());
    }

    private static bool HasWhiteSpace(string text)
    {
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                return true;
            }
        }
        return false;
    }

    // The last profile URLs this thread normalised: a record's keys are derived several times per
    // update (the record written, the one it replaces, the one published), and parsing a URL is the
    // costly part. Per thread, so no lock; cleared when full.
    [ThreadStatic]
    private static Dictionary<string, LookupKey?>? _recentUrls;
    private const int RecentUrls = 4096;
    private const int RecentUrlLength = 512;

    public static LookupKey? ProfileUrl(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (value.Length > RecentUrlLength)
        {
            // Not kept: a body may carry anything, and the cache must stay small.
            return NormalizeProfileUrl(value);
        }
        var recent = _recentUrls ??= new Dictionary<string, LookupKey?>(StringComparer.Ordinal);
        if (recent.TryGetValue(value, out var known))
        {
            return known;
        }
        if (recent.Count >= RecentUrls)
        {
            recent.Clear();
        }
        return recent[value] = NormalizeProfileUrl(value);
    }

    private static LookupKey? NormalizeProfileUrl(string value)
    {
        var text = value.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "https://" + text.TrimStart('/');
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }
        var host = uri.IdnHost.ToLowerInvariant().TrimEnd('.');
        // A handle such as "@jane" or a bare word is not a URL we can match on.
        if (!host.Contains('.', StringComparison.Ordinal) || host.StartsWith('@'))
        {
            return null;
        }
        foreach (var prefix in (ReadOnlySpan<string>)["www.", "m.", "mobile."])
        {
            if (host.StartsWith(prefix, StringComparison.Ordinal))
            {
                host = host[prefix.Length..];
            }
        }
        var segments = Uri.UnescapeDataString(uri.AbsolutePath).ToLowerInvariant()
            .Split('/', StringSplitOptions.RemoveEmptyEntries);

        if (host.EndsWith("linkedin.com", StringComparison.Ordinal))
        {
            // uk.linkedin.com/in/jane is the same profile as linkedin.com/in/jane.
            host = "linkedin.com";
            if (segments.Length >= 2 && segments[0] is "in" or "pub")
            {
                segments = [segments[0], segments[1]];
            }
        }
        else if (host == "github.com")
        {
            if (segments.Length >= 1)
            {
                segments = [segments[0]];
            }
        }
        else if (host is "angel.co" or "wellfound.com")
        {
            host = "wellfound.com";
            if (segments.Length >= 2 && segments[0] is "u" or "p")
            {
                segments = ["u", segments[1]];
            }
            else if (segments.Length >= 1 && segments[0] is not ("company" or "jobs" or "l"))
            {
                segments = ["u", segments[0]];
            }
        }
        var path = segments.Length == 0 ? string.Empty : "/" + string.Join('/', segments);
        return new LookupKey(LookupKeyKind.ProfileUrl, host + path);
    }
}
