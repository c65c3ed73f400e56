namespace Greenhouse.Receiver.Mirror;

/// <summary>A re-engagement search: every set filter must hold. Tag and source compare case-insensitively.</summary>
public sealed record CandidateQuery
{
    /// <summary>Latest rejection at or before this time (the candidate has at least one rejected application).</summary>
    public DateTimeOffset? RejectedBefore { get; init; }
    public string? Tag { get; init; }
    public bool NoActiveApplication { get; init; }
    public string? Source { get; init; }

    public bool Matches(CandidateRecord candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (RejectedBefore is { } cut && (CandidateQueryIndex.LatestRejection(candidate) is not { } rejected || rejected > cut))
        {
            return false;
        }
        if (Tag is { } tag && !candidate.Tags.Any(t => CandidateQueryIndex.Key(t) == CandidateQueryIndex.Key(tag)))
        {
            return false;
        }
        if (NoActiveApplication && candidate.Applications.Any(CandidateQueryIndex.IsActive))
        {
            return false;
        }
        return Source is not { } source || candidate.Applications.Any(a => a.Source is { } s && CandidateQueryIndex.Key(s) == CandidateQueryIndex.Key(source));
    }
}
