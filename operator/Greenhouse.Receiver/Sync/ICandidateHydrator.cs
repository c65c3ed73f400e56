using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Sync;

/// <summary>
/// Fetches the authoritative records of candidates (Harvest). The hydration worker calls it for
/// candidates that events touched; ids missing from the answer no longer exist in Greenhouse.
/// Throwing makes the requests retry with backoff.
/// </summary>
public interface ICandidateHydrator
{
    /// <summary>The current records of <paramref name="candidateIds"/> (at most 50 per call); mirror-only fields are left empty.</summary>
    Task<IReadOnlyList<CandidateRecord>> FetchAsync(IReadOnlyCollection<long> candidateIds, CancellationToken cancellationToken);
}
