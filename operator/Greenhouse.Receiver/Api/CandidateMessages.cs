using Google.Protobuf.WellKnownTypes;
using Greenhouse.Receiver.Mirror;
using V1 = Greenhouse.Contracts.Receiver.V1;

namespace Greenhouse.Receiver.Api;

/// <summary>Maps mirror records to greenhouse.receiver.v1 messages.</summary>
internal static class CandidateMessages
{
    public static V1.Candidate ToMessage(CandidateRecord record)
    {
        var message = new V1.Candidate
        {
            Id = record.Id,
            FirstName = record.FirstName ?? string.Empty,
            LastName = record.LastName ?? string.Empty,
            Company = record.Company ?? string.Empty,
            Title = record.Title ?? string.Empty,
            Url = record.Url ?? string.Empty,
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
        message.MergedCandidateIds.Add(record.MergedCandidateIds);
        return message;
    }

    private static V1.ContactValue Contact(ContactEntry entry) => new() { Value = entry.Value, Type = entry.Type ?? string.Empty };
}
