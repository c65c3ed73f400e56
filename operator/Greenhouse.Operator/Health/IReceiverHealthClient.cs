using Greenhouse.Contracts.Receiver.V1;

namespace Greenhouse.Operator.Health;

/// <summary>Asks one receiver pod for its SyncHealth (gRPC at podIP:Api:GrpcPort in a cluster; fakes in benchmarks).</summary>
public interface IReceiverHealthClient
{
    Task<SyncHealthReport> GetSyncHealthAsync(string podIp, int port, DateTime deadline, CancellationToken cancellationToken);
}
