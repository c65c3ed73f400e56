using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Processing;

/// <summary>What each Greenhouse <c>anonymized_fields</c> name clears in a mirrored candidate.</summary>
public static class AnonymizedFields
{
    /// <summary>The candidate with the named fields cleared (unknown names change nothing).</summary>
    public static CandidateRecord Scrub(CandidateRecord candidate, IEnumerable<string> fields)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(fields);
        foreach (var field in fields)
        {
            candidate = field switch
            {
                "first_name" => candidate with { FirstName = null },
                "last_name" => candidate with { LastName = null },
                "full_name" or "name" => candidate with { FirstName = null, LastName = null },
                "company" or "current_company" => candidate with { Company = null },
                "title" or "current_title" => candidate with { Title = null },
                "email_addresses" or "emails" => candidate with { EmailAddresses = [] },
                "phone_numbers" or "phones" => candidate with { PhoneNumbers = [] },
                "website_addresses" or "websites" => candidate with { WebsiteAddresses = [] },
                "social_media_addresses" or "social_media_links" or "social_media" => candidate with { SocialMediaAddresses = [] },
                "tags" or "candidate_tags" => candidate with { Tags = [] },
                _ => candidate,
            };
        }
        return candidate;
    }
}
