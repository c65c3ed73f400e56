using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// What one transaction of <see cref="MirrorStore.CommitAsync"/> writes, in order: mirror changes
/// (numbered at the commit) and the bookkeeping that must commit with them (inbox outcomes,
/// hydration requests, sweep state). Each kind of entry is written by the store that owns its table.
/// </summary>
public sealed class MirrorBatch
{
    private readonly List<object> _entries = [];

    public bool IsEmpty => _entries.Count == 0;

    internal IReadOnlyList<object> Entries => _entries;

    /// <summary>A change to the mirror, with its change-log entry, tombstone and redaction.</summary>
    public void Apply(MirrorChange change) => _entries.Add(change ?? throw new ArgumentNullException(nameof(change)));

    public void RequestHydration(long candidateId) => _entries.Add(new HydrationRequested(candidateId));

    public void CancelHydration(long candidateId) => _entries.Add(new HydrationCancelled(candidateId));

    /// <summary>Removes served requests, unless a newer event re-requested them meanwhile.</summary>
    public void CompleteHydration(IReadOnlyCollection<HydrationRequest> served) => _entries.Add(new HydrationServed(served));

    public void MarkProcessed(PendingEvent row) => _entries.Add(new Processed(row));

    public void Retry(PendingEvent row, int attempts, DateTimeOffset next, string error) => _entries.Add(new Retried(row, attempts, next, error));

    public void DeadLetter(PendingEvent row, long? candidateId, string reason) => _entries.Add(new DeadLettered(row, candidateId, reason));

    public void SaveSyncState(SyncState state) => _entries.Add(state ?? throw new ArgumentNullException(nameof(state)));

    internal sealed record HydrationRequested(long CandidateId);

    internal sealed record HydrationCancelled(long CandidateId);

    internal sealed record HydrationServed(IReadOnlyCollection<HydrationRequest> Requests);

    internal sealed record Processed(PendingEvent Row);

    internal sealed record Retried(PendingEvent Row, int Attempts, DateTimeOffset Next, string Error);

    internal sealed record DeadLettered(PendingEvent Row, long? CandidateId, string Reason);
}
