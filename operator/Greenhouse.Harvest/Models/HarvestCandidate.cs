namespace Greenhouse.Harvest;

/// <summary>A candidate as Harvest v3 returns it (<c>GET /v3/candidates</c>). Unknown fields are ignored, nulls become empty lists or null.</summary>
public sealed record HarvestCandidate
{
    private readonly IReadOnlyList<string> tags = [];
    private readonly IReadOnlyList<long> linkedUserIds = [];
    private readonly IReadOnlyList<HarvestTypedValue> phoneNumbers = [];
    private readonly IReadOnlyList<HarvestTypedValue> addresses = [];
    private readonly IReadOnlyList<HarvestTypedValue> emailAddresses = [];
    private readonly IReadOnlyList<HarvestTypedValue> websiteAddresses = [];
    private readonly IReadOnlyList<HarvestTypedValue> socialMediaAddresses = [];
    private readonly IReadOnlyDictionary<string, HarvestCustomField> customFields = new Dictionary<string, HarvestCustomField>();

    public long Id { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? PreferredName { get; init; }
    public string? Company { get; init; }
    public string? Title { get; init; }
    public DateTimeOffset? LastActivityAt { get; init; }
    public bool? Private { get; init; }
    public bool? CanEmail { get; init; }
    public string? TimeZone { get; init; }

    /// <summary>Tag names.</summary>
    public IReadOnlyList<string> Tags { get => tags; init => tags = value ?? []; }
    public IReadOnlyList<long> LinkedUserIds { get => linkedUserIds; init => linkedUserIds = value ?? []; }
    public IReadOnlyList<HarvestTypedValue> PhoneNumbers { get => phoneNumbers; init => phoneNumbers = value ?? []; }
    public IReadOnlyList<HarvestTypedValue> Addresses { get => addresses; init => addresses = value ?? []; }
    public IReadOnlyList<HarvestTypedValue> EmailAddresses { get => emailAddresses; init => emailAddresses = value ?? []; }
    public IReadOnlyList<HarvestTypedValue> WebsiteAddresses { get => websiteAddresses; init => websiteAddresses = value ?? []; }

    /// <summary>LinkedIn, GitHub and similar profile URLs (no <c>type</c> in v3).</summary>
    public IReadOnlyList<HarvestTypedValue> SocialMediaAddresses { get => socialMediaAddresses; init => socialMediaAddresses = value ?? []; }

    public IReadOnlyDictionary<string, HarvestCustomField> CustomFields { get => customFields; init => customFields = value ?? new Dictionary<string, HarvestCustomField>(); }
}
