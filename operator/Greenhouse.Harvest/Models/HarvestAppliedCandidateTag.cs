namespace Greenhouse.Harvest;

/// <summary>A tag applied to one candidate (<c>/v3/applied_candidate_tags</c>); removing the tag deletes this row by its own id.</summary>
public sealed record HarvestAppliedCandidateTag
{
    public long Id { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public long CandidateTagId { get; init; }
    public long CandidateId { get; init; }
}
