using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Sync;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>A hydrator over an in-memory "Greenhouse": records each call; can fail a number of calls.</summary>
internal sealed class ScriptedHydrator : ICandidateHydrator
{
    private int _failuresLeft;

    public Dictionary<long, CandidateRecord> Greenhouse { get; } = [];

    public List<long[]> Calls { get; } = [];

    public void FailNext(int calls) => _failuresLeft = calls;

    public Task<IReadOnlyList<CandidateRecord>> FetchAsync(IReadOnlyCollection<long> candidateIds, CancellationToken cancellationToken)
    {
        Calls.Add([.. candidateIds]);
        if (_failuresLeft > 0)
        {
            _failuresLeft--;
            throw new HttpRequestException("simulated Harvest outage");
        }
        IReadOnlyList<CandidateRecord> found = [.. candidateIds.Where(Greenhouse.ContainsKey).Select(id => Greenhouse[id])];
        return Task.FromResult(found);
    }
}
