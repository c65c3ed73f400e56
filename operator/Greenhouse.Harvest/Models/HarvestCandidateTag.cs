namespace Greenhouse.Harvest;

/// <summary>An organisation-wide candidate tag (<c>/v3/candidate_tags</c>).</summary>
public sealed record HarvestCandidateTag
{
    public long Id { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? Name { get; init; }
}
