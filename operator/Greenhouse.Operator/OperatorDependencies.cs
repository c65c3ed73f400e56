using Greenhouse.Harvest;
using Greenhouse.Operator.Health;

namespace Greenhouse.Operator;

/// <summary>What the operator talks to besides the API server; tests and benchmarks replace them.</summary>
public sealed record OperatorDependencies
{
    /// <summary>SyncHealth of a receiver pod; gRPC by default.</summary>
    public IReceiverHealthClient? HealthClient { get; init; }

    /// <summary>One token request with candidate Harvest credentials; HTTP to spec.harvest.tokenUrl by default.</summary>
    public Func<Uri, long?, string, string, CancellationToken, Task<HarvestTokenCheckResult>>? HarvestTokenCheck { get; init; }
}
