namespace Greenhouse.Receiver.Mirror;

/// <summary>A mirrored candidate as the receiver stores it (JSON in SQLite, in memory for lookups).</summary>
public sealed record CandidateRecord
{
    public required long Id { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Company { get; init; }
    public string? Title { get; init; }
    public string? Url { get; init; }
    public IReadOnlyList<ContactEntry> EmailAddresses { get; init; } = [];
    public IReadOnlyList<ContactEntry> PhoneNumbers { get; init; } = [];
    public IReadOnlyList<ContactEntry> WebsiteAddresses { get; init; } = [];
    public IReadOnlyList<ContactEntry> SocialMediaAddresses { get; init; } = [];
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyList<long> ApplicationIds { get; init; } = [];
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public long ChangeNumber { get; init; }
    public IReadOnlyList<string> AnonymizedFields { get; init; } = [];
    public IReadOnlyList<long> MergedCandidateIds { get; init; } = [];

    /// <summary>Applications with their status, rejection, jobs and source (re-engagement queries).</summary>
    public IReadOnlyList<ApplicationRecord> Applications { get; init; } = [];

    /// <summary>Latest activity Greenhouse reported for the candidate or any of its applications.</summary>
    public DateTimeOffset? LastActivityAt { get; init; }

    /// <summary>The normalised lookup keys of this candidate's e-mails and profile URLs (a <c>foreach</c> allocates nothing).</summary>
    public CandidateLookupKeys LookupKeys() => new(this);
}
