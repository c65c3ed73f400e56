using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Greenhouse.Receiver.Mirror;
using V1 = Greenhouse.Contracts.Receiver.V1;

namespace Greenhouse.Receiver.Api;

/// <summary>Maps mirror records to greenhouse.receiver.v1 messages.</summary>
internal static class CandidateMessages
{
    /// <param name="record">The mirrored record.</param>
    /// <param name="ssoDomain">Greenhouse:SsoDomain: builds the profile link when Greenhouse sent none (Harvest records never carry one).</param>
    /// <param name="mergedFrom">Ids merged into this one that the record itself may not list (merges applied before the record arrived).</param>
    public static V1.Candidate ToMessage(CandidateRecord record, string? ssoDomain = null, IReadOnlyCollection<long>? mergedFrom = null)
    {
        var message = new V1.Candidate
        {
            Id = record.Id,
            FirstName = record.FirstName ?? string.Empty,
            LastName = record.LastName ?? string.Empty,
            Company = record.Company ?? string.Empty,
            Title = record.Title ?? string.Empty,
            Url = record.Url is { Length: > 0 } url ? url
                : ssoDomain is null ? string.Empty
                : string.Create(CultureInfo.InvariantCulture, $"https://{ssoDomain}/people/{record.Id}"),
            UpdatedAt = Timestamp.FromDateTimeOffset(record.UpdatedAt),
            ChangeNumber = record.ChangeNumber,
        };
        if (record.CreatedAt is { } created)
        {
            message.CreatedAt = Timestamp.FromDateTimeOffset(created);
        }
        message.EmailAddresses.Add(record.EmailAddresses.Select(Contact));
        message.PhoneNumbers.Add(record.PhoneNumbers.Select(Contact));
        message.WebsiteAddresses.Add(record.WebsiteAddresses.Select(Contact));
        message.SocialMediaAddresses.Add(record.SocialMediaAddresses.Select(Contact));
        message.Tags.Add(record.Tags);
        message.ApplicationIds.Add(record.ApplicationIds);
        message.AnonymizedFields.Add(record.AnonymizedFields);
        message.MergedCandidateIds.Add(mergedFrom is { Count: > 0 } ? record.MergedCandidateIds.Union(mergedFrom).Order() : record.MergedCandidateIds);
        message.Applications.Add(record.Applications.Select(Application));
        if (record.LastActivityAt is { } activity)
        {
            message.LastActivityAt = Timestamp.FromDateTimeOffset(activity);
        }
        return message;
    }

    private static V1.Application Application(ApplicationRecord record)
    {
        var message = new V1.Application
        {
            Id = record.Id,
            Status = record.Status ?? string.Empty,
            Prospect = record.Prospect,
            RejectionReason = record.RejectionReason ?? string.Empty,
            Source = record.Source ?? string.Empty,
        };
        message.JobIds.Add(record.JobIds);
        if (record.RejectedAt is { } rejected)
        {
            message.RejectedAt = Timestamp.FromDateTimeOffset(rejected);
        }
        if (record.AppliedAt is { } applied)
        {
            message.AppliedAt = Timestamp.FromDateTimeOffset(applied);
        }
        if (record.LastActivityAt is { } activity)
        {
            message.LastActivityAt = Timestamp.FromDateTimeOffset(activity);
        }
        return message;
    }

    private static V1.ContactValue Contact(ContactEntry entry) => new() { Value = entry.Value, Type = entry.Type ?? string.Empty };
}
