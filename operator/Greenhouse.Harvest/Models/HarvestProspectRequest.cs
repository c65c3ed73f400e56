namespace Greenhouse.Harvest;

/// <summary>Makes an existing candidate a prospect (<c>POST /v3/applications</c> with <c>prospect: true</c>).</summary>
public sealed record HarvestProspectRequest(
    long CandidateId,
    IReadOnlyList<long>? JobIds = null,
    long? SourceId = null,
    long? ProspectPoolId = null,
    long? ProspectPoolStageId = null,
    long? ProspectOwnerId = null);
