using Greenhouse.Receiver.Processing;

namespace Greenhouse.Receiver.Tests.Support;

/// <summary>A hydrator whose answers per candidate are scripted: fail N times, or always.</summary>
internal sealed class ScriptedHydrator : ICandidateHydrator
{
    private readonly Dictionary<long, int> _failuresLeft = [];

    public List<long> Calls { get; } = [];

    public void FailTimes(long candidateId, int times) => _failuresLeft[candidateId] = times;

    public Task HydrateAsync(long candidateId, CancellationToken cancellationToken)
    {
        Calls.Add(candidateId);
        if (_failuresLeft.TryGetValue(candidateId, out var left) && left > 0)
        {
            _failuresLeft[candidateId] = left - 1;
            throw new HttpRequestException("simulated Harvest outage");
        }
        return Task.CompletedTask;
    }
}
