namespace Greenhouse.Harvest;

/// <summary>
/// Harvest v3 as the receiver uses it. Every call shares the process-wide token cache and rate
/// limiter; failures surface as a <see cref="HarvestException"/> subclass per failure class.
/// </summary>
public interface IHarvestClient
{
    /// <summary>Connection state for health reporting (authenticated, last error, token expiry, rate limit, missing scopes).</summary>
    HarvestStatusSnapshot Status { get; }

    /// <summary>One candidate by id (<c>GET /v3/candidates?ids=</c>; v3 has no get-by-id route); null when it does not exist.</summary>
    Task<HarvestCandidate?> GetCandidateAsync(long candidateId, CancellationToken cancellationToken = default);

    /// <summary>Several candidates by id, 50 per request; ids that do not exist are simply absent from the result.</summary>
    Task<IReadOnlyList<HarvestCandidate>> GetCandidatesAsync(IEnumerable<long> candidateIds, CancellationToken cancellationToken = default);

    /// <summary>Pages of candidates with <c>updated_at</c> at or after <paramref name="since"/> (and at or before <paramref name="until"/>), following the <c>Link</c> header.</summary>
    IAsyncEnumerable<IReadOnlyList<HarvestCandidate>> ListCandidatesUpdatedSinceAsync(DateTimeOffset since, DateTimeOffset? until = null, CancellationToken cancellationToken = default);

    /// <summary>Pages of every candidate (full sweep).</summary>
    IAsyncEnumerable<IReadOnlyList<HarvestCandidate>> ListCandidatesAsync(CancellationToken cancellationToken = default);

    /// <summary>The id of every candidate (sparse fieldset), for detecting deletions.</summary>
    IAsyncEnumerable<long> ListAllCandidateIdsAsync(CancellationToken cancellationToken = default);

    /// <summary>The notes (activity feed, including e-mail notes) of a candidate.</summary>
    Task<IReadOnlyList<HarvestNote>> ListNotesAsync(long candidateId, CancellationToken cancellationToken = default);

    /// <summary>Adds a note written by the sync user. Not retried after a lost answer (it is not idempotent); callers deduplicate.</summary>
    Task<HarvestNote> AddNoteAsync(HarvestNoteRequest note, CancellationToken cancellationToken = default);

    /// <summary>Records an e-mail (note of type <c>EMAIL</c>) written by the sync user.</summary>
    Task<HarvestNote> AddEmailNoteAsync(HarvestEmailNoteRequest email, CancellationToken cancellationToken = default);

    /// <summary>Applies tags by name, creating organisation tags that do not exist; tags already applied are left alone. Returns the applied rows of the requested tags.</summary>
    Task<IReadOnlyList<HarvestAppliedCandidateTag>> AddTagsAsync(long candidateId, IEnumerable<string> tagNames, CancellationToken cancellationToken = default);

    /// <summary>Removes a tag by name; false when the candidate did not carry it.</summary>
    Task<bool> RemoveTagAsync(long candidateId, string tagName, CancellationToken cancellationToken = default);

    /// <summary>Makes an existing candidate a prospect.</summary>
    Task<HarvestApplication> AddProspectAsync(HarvestProspectRequest prospect, CancellationToken cancellationToken = default);

    /// <summary>The organisation's candidate tags.</summary>
    IAsyncEnumerable<HarvestCandidateTag> ListCandidateTagsAsync(CancellationToken cancellationToken = default);

    /// <summary>The applications and prospect applications of a candidate.</summary>
    IAsyncEnumerable<HarvestApplication> ListApplicationsAsync(long candidateId, CancellationToken cancellationToken = default);

    IAsyncEnumerable<HarvestUser> ListUsersAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<HarvestSource> ListSourcesAsync(CancellationToken cancellationToken = default);
}
