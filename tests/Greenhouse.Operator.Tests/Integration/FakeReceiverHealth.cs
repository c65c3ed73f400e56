using System.Collections.Concurrent;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Operator.Health;
using Grpc.Core;

namespace Greenhouse.Operator.Tests.Integration;

/// <summary>SyncHealth answers by pod IP, set by the test; a pod without an answer is unreachable. Counts calls.</summary>
internal sealed class FakeReceiverHealth : IReceiverHealthClient
{
    private readonly ConcurrentDictionary<string, Func<SyncHealthReport>> _answers = new(StringComparer.Ordinal);
    private int _calls;

    public int Calls => _calls;

    public void Answer(string podIp, Func<SyncHealthReport> report) => _answers[podIp] = report;

    public void Silence(string podIp) => _answers.TryRemove(podIp, out _);

    public Task<SyncHealthReport> GetSyncHealthAsync(string podIp, int port, DateTime deadline, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return _answers.TryGetValue(podIp, out var answer)
            ? Task.FromResult(answer())
            : Task.FromException<SyncHealthReport>(new RpcException(new Status(StatusCode.Unavailable, "connection refused")));
    }
}
