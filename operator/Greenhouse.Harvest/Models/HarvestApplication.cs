namespace Greenhouse.Harvest;

/// <summary>An application or prospect (<c>/v3/applications</c>; <see cref="Prospect"/> true for prospects).</summary>
public sealed record HarvestApplication
{
    private readonly IReadOnlyList<long> prospectiveJobIds = [];

    public long Id { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public long CandidateId { get; init; }
    public long? JobId { get; init; }
    public long? SourceId { get; init; }
    public long? RecruiterId { get; init; }
    public long? CoordinatorId { get; init; }
    public long? ReferrerId { get; init; }
    public long? StageId { get; init; }
    public string? StageName { get; init; }

    /// <summary><c>in_process</c>, <c>rejected</c>, <c>hired</c> or <c>converted</c>.</summary>
    public string? Status { get; init; }
    public bool Prospect { get; init; }
    public DateTimeOffset? RejectedAt { get; init; }
    public DateTimeOffset? LastActivityAt { get; init; }
    public IReadOnlyList<long> ProspectiveJobIds { get => prospectiveJobIds; init => prospectiveJobIds = value ?? []; }
}
