using Greenhouse.Harvest;
using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Sync;

/// <summary>Fetches candidates from Harvest v3 (<c>GET /v3/candidates?ids=</c>, 50 per request).</summary>
public sealed class HarvestCandidateHydrator(IHarvestClient harvest) : ICandidateHydrator
{
    public async Task<IReadOnlyList<CandidateRecord>> FetchAsync(IReadOnlyCollection<long> candidateIds, CancellationToken cancellationToken)
    {
        var found = await harvest.GetCandidatesAsync(candidateIds, cancellationToken).ConfigureAwait(false);
        return [.. found.Select(HarvestCandidateMapper.ToRecord)];
    }
}
