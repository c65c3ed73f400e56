using System.Collections.Concurrent;
using Greenhouse.Harvest;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>Stands in for the Harvest token endpoint: accepts every client secret except those marked refused; counts requests.</summary>
internal sealed class FakeTokenEndpoint
{
    private readonly ConcurrentDictionary<string, byte> _refused = new(StringComparer.Ordinal);
    private int _requests;

    public int Requests => _requests;

    public bool Unreachable { get; set; }

    public void Refuse(string clientSecret) => _refused[clientSecret] = 0;

    public Task<HarvestTokenCheckResult> CheckAsync(Uri tokenUrl, long? syncUserId, string clientId, string clientSecret, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        return Task.FromResult(
            Unreachable ? new HarvestTokenCheckResult(HarvestTokenCheckOutcome.Unreachable, $"the token endpoint {tokenUrl} could not be reached: connection refused")
            : _refused.ContainsKey(clientSecret) ? new HarvestTokenCheckResult(HarvestTokenCheckOutcome.Rejected, $"the token endpoint refused client {clientId}: 401 invalid_client")
            : new HarvestTokenCheckResult(HarvestTokenCheckOutcome.Accepted, $"the token endpoint issued a token to client {clientId}", DateTimeOffset.UtcNow.AddHours(1)));
    }
}
