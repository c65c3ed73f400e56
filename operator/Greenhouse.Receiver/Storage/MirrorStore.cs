using System.Buffers;
using System.Text.Json;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Observability;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The one way changes reach the mirror: <see cref="CommitAsync"/> numbers a batch's changes, writes
/// them with their bookkeeping in one transaction on the database writer (candidates, change log,
/// tombstones, redaction, inbox outcomes, hydration queue, sweep state: each through the store that
/// owns the table) and only after the commit publishes them to the mirror's in-memory indexes and tombstones,
/// so readers never see a change that a crash could take back. The event processor and Harvest sync
/// both commit here; one commit at a time, so change numbers are given in order.
/// </summary>
public sealed partial class MirrorStore : IDisposable
{
    private readonly ReceiverOptions _options;
    private readonly CandidateMirror _mirror;
    private readonly WebhookInbox _writer;
    private readonly TombstoneStore _tombstones;
    private readonly HydrationQueueStore _hydration;
    private readonly DatabaseMaintenance _maintenance;
    private readonly ReceiverMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<MirrorStore> _logger;
    private readonly SemaphoreSlim _commitGate = new(1, 1);
    // A commit's records as UTF-8 JSON, one after the other (used under the commit gate only). SQLite
    // stores TEXT as UTF-8: serialising to a string cost a UTF-16 copy of every record, which lived
    // until the database thread had written it (often across a collection), and a conversion back.
    private ArrayBufferWriter<byte> _json = new(InitialJsonBytes);
    private readonly Utf8JsonWriter _jsonWriter = new(Stream.Null);
    private const int InitialJsonBytes = 64 * 1024;
    // A buffer grown past this (a large sweep's commit) is not kept for the next commit.
    private const int KeptJsonBytes = 1024 * 1024;
    private readonly Lock _loadGate = new();
    private volatile bool _loaded;

    public MirrorStore(ReceiverOptions options, CandidateMirror mirror, WebhookInbox writer, TombstoneStore tombstones, HydrationQueueStore hydration,
        DatabaseMaintenance maintenance, ReceiverMetrics metrics, TimeProvider time, ILogger<MirrorStore> logger)
    {
        _options = options;
        _mirror = mirror;
        _writer = writer;
        _tombstones = tombstones;
        _hydration = hydration;
        _maintenance = maintenance;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>True once the mirror has been loaded from the database.</summary>
    public bool IsLoaded => _loaded;

    /// <summary>Loads the mirror's indexes, the merges and the tombstones from the database (not the records); false while storage is unavailable.</summary>
    public bool TryLoad()
    {
        if (_loaded)
        {
            return true;
        }
        lock (_loadGate)
        {
            if (_loaded)
            {
                return true;
            }
            try
            {
                using var db = ReceiverDatabase.Open(_options.DataDirectory, _options.CommitTimeout);
                // The indexes only: records stay on disk until read.
                var (candidates, keys) = CandidateStore.Count(db);
                _mirror.Restore(CandidateStore.ReadIndex(db), candidates, keys);
                // Reading a million index rows leaves several times the indexes' size in garbage; one
                // compacting collection now gives it back to the system instead of keeping it as heap.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                foreach (var (loser, survivor) in CandidateStore.ReadMerges(db))
                {
                    _mirror.RecordMerge(loser, survivor);
                }
                _mirror.Published(ChangeLog.LastNumber(db));
                _tombstones.Load(db);
                _metrics.Candidates.Set(_mirror.Count);
                _loaded = true;
                LogLoaded(_logger, _mirror.Count, _mirror.LastChangeNumber);
                return true;
            }
            catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
            {
                LogLoadFailed(_logger, _options.DataDirectory, ex.Message);
                return false;
            }
        }
    }

    /// <summary>Commits <paramref name="batch"/> in one transaction and publishes its changes; returns them numbered.</summary>
    public async Task<IReadOnlyList<MirrorChange>> CommitAsync(MirrorBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!TryLoad())
        {
            throw new InvalidOperationException("The receiver database cannot be opened.");
        }
        await _commitGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            var nowMs = now.ToUnixTimeMilliseconds();
            // Numbering and serialising happen here, off the writer: every commit holds the gate,
            // so the next numbers are known.
            var number = _mirror.LastChangeNumber;
            var entries = new List<object>(batch.Entries.Count);
            var committed = new List<MirrorChange>();
            // The records the changes replace, read before the commit (the mirror's indexes drop their keys and facets).
            var previous = new List<CandidateRecord?>();
            // Each upserted record's index entry, derived once for both its index row and the in-memory indexes.
            var indexed = new List<CandidateIndexEntry?>();
            var pending = new Dictionary<long, CandidateRecord?>(batch.Entries.Count);
            var hydrationQueued = false;
            foreach (var entry in batch.Entries)
            {
                if (entry is MirrorChange change)
                {
                    number++;
                    var numbered = change with { Candidate = change.Candidate is { } c ? c with { ChangeNumber = number } : null, ChangeNumber = number };
                    committed.Add(numbered);
                    previous.Add(pending.TryGetValue(change.CandidateId, out var earlier) ? earlier : _mirror.Get(change.CandidateId));
                    pending[change.CandidateId] = change.Kind is CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized ? numbered.Candidate : null;
                    var index = numbered.Candidate is { } record && numbered.Kind is CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized ? CandidateIndexEntry.Of(record) : null;
                    indexed.Add(index);
                    entries.Add(new Numbered(numbered, numbered.Candidate is null ? default : Serialize(numbered.Candidate), _mirror.SurvivorOf(change.CandidateId) is not null, index));
                }
                else
                {
                    hydrationQueued |= entry is MirrorBatch.HydrationRequested;
                    entries.Add(entry);
                }
            }
            var hydrate = _options.Harvest;
            await _writer.WriteAsync(db =>
            {
                using var tx = db.BeginTransaction();
                using var candidates = new CandidateStore.Writer(db, tx, nowMs);
                using var changes = ChangeLog.AppendStatement(db, nowMs);
                using var processed = new InboxStore.MarkProcessed(db, nowMs);
                using var tombstones = new TombstoneStore.Writer(db, nowMs);
                foreach (var entry in entries)
                {
                    switch (entry)
                    {
                        case Numbered(var change, var range, var wasMerged, var index):
                            var data = _json.WrittenSpan[range];
                            ChangeLog.Append(changes, change, data);
                            candidates.Write(change, data, wasMerged, index);
                            tombstones.Write(change);
                            CandidateRedaction.Apply(db, tx, change);
                            break;
                        case MirrorBatch.Processed(var row):
                            processed.Run(row.Seq);
                            break;
                        case MirrorBatch.Retried(var row, var attempts, var next, var error):
                            InboxStore.WriteRetry(db, tx, row.Seq, attempts, next, error);
                            break;
                        case MirrorBatch.DeadLettered(var row, var candidateId, var reason):
                            InboxStore.WriteDeadLetter(db, tx, row, candidateId, reason, nowMs);
                            break;
                        case MirrorBatch.HydrationRequested(var candidateId):
                            HydrationQueueStore.Request(db, tx, candidateId, now, hydrate ?? throw new InvalidOperationException("Hydration needs Harvest mode."));
                            break;
                        case MirrorBatch.HydrationCancelled(var candidateId):
                            HydrationQueueStore.Cancel(db, tx, candidateId);
                            break;
                        case MirrorBatch.HydrationServed(var served):
                            HydrationQueueStore.Complete(db, tx, served);
                            break;
                        case SyncState state:
                            state.Write(db, tx);
                            break;
                    }
                }
                tx.Commit();
            }).ConfigureAwait(false);
            Publish(committed, previous, indexed);
            if (hydrationQueued)
            {
                _hydration.NotifyRequested();
            }
            return committed;
        }
        finally
        {
            // Zeroed, not only rewound: the buffer keeps no candidate's data once it is written.
            _json.Clear();
            if (_json.Capacity > KeptJsonBytes)
            {
                _json = new ArrayBufferWriter<byte>(InitialJsonBytes);
            }
            _commitGate.Release();
        }
    }

    /// <summary>Appends the record's JSON to this commit's buffer; where it is (never empty: a record is at least <c>{}</c>).</summary>
    private Range Serialize(CandidateRecord candidate)
    {
        var start = _json.WrittenCount;
        _jsonWriter.Reset(_json);
        JsonSerializer.Serialize(_jsonWriter, candidate, CandidateJson.Default.CandidateRecord);
        _jsonWriter.Flush();
        return start.._json.WrittenCount;
    }

    public void Dispose()
    {
        _commitGate.Dispose();
        _jsonWriter.Dispose();
    }

    /// <summary>Only after the commit: readers never see a change that a crash could take back.</summary>
    private void Publish(List<MirrorChange> committed, List<CandidateRecord?> previous, List<CandidateIndexEntry?> indexed)
    {
        for (var i = 0; i < committed.Count; i++)
        {
            var change = committed[i];
            _tombstones.Published(change);
            if (CandidateRedaction.Removes(change.Kind))
            {
                _maintenance.PersonalDataRemoved();
            }
            switch (change.Kind)
            {
                case CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized:
                    _mirror.Put(change.Candidate!, previous[i], indexed[i]);
                    break;
                case CandidateChangeKind.Deleted:
                    _mirror.Remove(change.CandidateId, previous[i]);
                    break;
                case CandidateChangeKind.Merged:
                    _mirror.Remove(change.CandidateId, previous[i]);
                    _mirror.RecordMerge(change.CandidateId, change.MergedInto!.Value);
                    break;
            }
        }
        if (committed.Count > 0)
        {
            _mirror.Published(committed[^1].ChangeNumber);
            _metrics.Candidates.Set(_mirror.Count);
        }
    }

    /// <param name="Data">Where the record's JSON is in this commit's buffer; empty for a change without a record.</param>
    private sealed record Numbered(MirrorChange Change, Range Data, bool WasMerged, CandidateIndexEntry? Index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Candidate mirror loaded: {Candidates} candidates, change log at {ChangeNumber}")]
    private static partial void LogLoaded(ILogger logger, int candidates, long changeNumber);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot open the database in {DataDirectory} to load the mirror: {Reason}; retrying")]
    private static partial void LogLoadFailed(ILogger logger, string dataDirectory, string reason);
}
