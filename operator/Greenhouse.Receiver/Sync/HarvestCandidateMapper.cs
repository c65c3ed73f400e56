using System.Text.Json;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Sync;

/// <summary>Turns Harvest candidates into mirror records and tells whether a record needs fixing.</summary>
internal static class HarvestCandidateMapper
{
    /// <summary>The Harvest fields of a candidate; mirror-only fields (URL, applications, anonymisation, merges) are empty.</summary>
    public static CandidateRecord ToRecord(HarvestCandidate candidate) => new()
    {
        Id = candidate.Id,
        FirstName = candidate.FirstName,
        LastName = candidate.LastName,
        Company = candidate.Company,
        Title = candidate.Title,
        EmailAddresses = Entries(candidate.EmailAddresses),
        PhoneNumbers = Entries(candidate.PhoneNumbers),
        WebsiteAddresses = Entries(candidate.WebsiteAddresses),
        SocialMediaAddresses = Entries(candidate.SocialMediaAddresses),
        Tags = [.. candidate.Tags],
        CreatedAt = candidate.CreatedAt,
        UpdatedAt = candidate.UpdatedAt,
        LastActivityAt = candidate.LastActivityAt,
    };

    /// <summary>The fetched record with the fields only the mirror knows taken from <paramref name="existing"/>.</summary>
    /// <remarks>
    /// Anonymisation is applied again: a fetch that started before the candidate_anonymized event
    /// was applied must not bring the scrubbed values back (Greenhouse never un-anonymises).
    /// </remarks>
    public static CandidateRecord Merge(CandidateRecord fetched, CandidateRecord? existing) => existing is null ? fetched : CandidateAnonymization.Apply(fetched with
    {
        Url = existing.Url,
        ApplicationIds = existing.ApplicationIds,
        Applications = existing.Applications,
        LastActivityAt = existing.LastActivityAt > fetched.LastActivityAt || fetched.LastActivityAt is null ? existing.LastActivityAt : fetched.LastActivityAt,
        AnonymizedFields = existing.AnonymizedFields,
        MergedCandidateIds = existing.MergedCandidateIds,
    }, existing.AnonymizedFields);

    /// <summary>True when both records say the same (change numbers aside).</summary>
    public static bool Same(CandidateRecord a, CandidateRecord? b) =>
        b is not null && JsonSerializer.Serialize(a with { ChangeNumber = 0 }) == JsonSerializer.Serialize(b with { ChangeNumber = 0 });

    private static List<ContactEntry> Entries(IReadOnlyList<HarvestTypedValue> values) =>
        [.. values.Where(v => !string.IsNullOrWhiteSpace(v.Value)).Select(v => new ContactEntry(v.Value!, v.Type))];
}
