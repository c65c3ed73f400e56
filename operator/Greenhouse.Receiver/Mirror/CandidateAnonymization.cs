using System.Globalization;

namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// Greenhouse's "Anonymized Fields" table (candidate_anonymized webhook) applied to a mirrored
/// record. Only the attributes that touch mirrored data change it; the others (addresses, notes,
/// e-mails sent through Greenhouse, attachments, ...) are data the mirror never holds and are
/// only recorded. Anonymisation is irreversible in Greenhouse, so applying it again (to a record
/// Harvest returned from before the anonymisation) is always right.
/// </summary>
public static class CandidateAnonymization
{
    /// <summary>The attributes of the table that change mirrored data.</summary>
    public static IReadOnlyCollection<string> MirroredFields { get; } =
    [
        "full_name", "current_company", "current_title", "email_addresses", "phone_numbers", "websites",
        "social_media_links", "tags", "rejection_reasons", "source", "prospect_jobs",
    ];

    public static CandidateRecord Apply(CandidateRecord candidate, IEnumerable<string> fields)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(fields);
        foreach (var field in fields)
        {
            candidate = field switch
            {
                "full_name" => candidate with { FirstName = "Anonymized", LastName = candidate.Id.ToString(CultureInfo.InvariantCulture) },
                "current_company" => candidate with { Company = null },
                "current_title" => candidate with { Title = null },
                "email_addresses" => candidate with { EmailAddresses = [] },
                "phone_numbers" => candidate with { PhoneNumbers = [] },
                "websites" => candidate with { WebsiteAddresses = [] },
                "social_media_links" => candidate with { SocialMediaAddresses = [] },
                "tags" => candidate with { Tags = [] },
                "rejection_reasons" => candidate with { Applications = [.. candidate.Applications.Select(a => a with { RejectionReason = null })] },
                "source" => candidate with { Applications = [.. candidate.Applications.Select(a => a with { Source = null })] },
                "prospect_jobs" => candidate with { Applications = [.. candidate.Applications.Select(a => a.Prospect ? a with { JobIds = [] } : a)] },
                // Not mirrored (e-mails sent through Greenhouse, notes, addresses, attachments, ...): recorded only.
                _ => candidate,
            };
        }
        return candidate;
    }
}
