using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using V1 = Greenhouse.Contracts.Receiver.V1;

namespace Operator.Bench;

/// <summary>SyncHealth of an idle receiver: the same report on every call (counts the calls).</summary>
internal sealed class FakeSyncHealth : V1.SyncHealth.SyncHealthBase
{
    private static readonly DateTime LastEvent = new(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);
    private static long _calls;

    public static long Calls => Interlocked.Read(ref _calls);

    public override Task<V1.SyncHealthReport> GetSyncHealth(V1.GetSyncHealthRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(new V1.SyncHealthReport
        {
            EventsAccepted = 42,
            Candidates = 1000,
            LastEventAt = Timestamp.FromDateTime(LastEvent),
            SecretsLoadedAt = Timestamp.FromDateTime(LastEvent.AddHours(-1)),
        });
    }
}
