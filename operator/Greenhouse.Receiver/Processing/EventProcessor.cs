using System.Globalization;
using System.Text;
using System.Text.Json;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Sync;
using Greenhouse.Receiver.Webhooks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Processing;

/// <summary>
/// Applies stored events to the candidate mirror in the background. Events of one candidate are
/// applied in arrival order: while an earlier event of a candidate waits for a retry, its later
/// events wait too. A pass's mirror changes, change-log entries and "processed" marks are one
/// transaction (run on the inbox's writer), so a crash never applies an event twice or half.
/// Reads use a connection of the processor's own.
/// </summary>
public sealed partial class EventProcessor : BackgroundService
{
    private const int BatchSize = 1024;
    // Each chunk is one transaction on the inbox writer; small chunks let ingest commits interleave.
    private const int ChunkSize = 128;
    // While deliveries are in flight, a pass is one small chunk (the writer is held briefly) and is
    // followed by a pause of BusyYield times its own duration: the processor takes at most about a
    // third of a core from ingest, more when requests stop. The backlog waits in the inbox (lag),
    // nothing is lost, and at steady rates well below the maximum it still keeps up.
    private const int BusyBatchSize = 64;
    private const int BusyYield = 2;
    // Passes are spaced so a busy inbox does not alternate every ingest commit with a processing commit.
    private static readonly TimeSpan PassSpacing = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(200);
    // WAL frames (pages) written since the WAL last started again, past which an idle moment restarts it (16 MiB of 4 KiB pages).
    private const long IdleRestartWalFrames = 4096;
    // After a delete, merge or anonymisation the WAL still holds the old pages: it is checkpointed
    // and truncated when no delivery waits, and at the latest this long after (a short stall of ingest).
    private static readonly TimeSpan ScrubWalWithin = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ScrubRetry = TimeSpan.FromSeconds(5);

    private readonly ReceiverOptions _options;
    private readonly CandidateMirror _mirror;
    private readonly ReceiverMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<EventProcessor> _logger;
    private readonly WebhookInbox _inbox;
    private readonly TombstoneStore _tombstones;
    private readonly SemaphoreSlim _wake = new(0, 1);
    // Processing passes and sync writes (hydration, sweeps) each number change-log entries; one at a time.
    private readonly SemaphoreSlim _commitGate = new(1, 1);
    private SqliteConnection? _db;
    private InboxLogReader? _log;
    private InboxLogEraser? _eraser;
    // Set when a commit removed personal data; the WAL copies of the old pages go at the next truncating checkpoint.
    private DateTimeOffset? _scrubWalSince;
    private FileStream? _databaseFile;
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;
    private DateTimeOffset _lastCheckpoint = DateTimeOffset.MinValue;
    // Frames in the WAL as the last passive checkpoint found it (the file keeps its size when the WAL restarts).
    private long _walFrames;

    public EventProcessor(ReceiverOptions options, CandidateMirror mirror, WebhookInbox inbox, TombstoneStore tombstones, ReceiverMetrics metrics,
        TimeProvider time, ILogger<EventProcessor> logger)
    {
        ArgumentNullException.ThrowIfNull(inbox);
        _options = options;
        _tombstones = tombstones;
        _mirror = mirror;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _inbox = inbox;
        inbox.Committed += Wake;
    }

    /// <summary>Raised after a commit that queued candidates for hydration (Harvest mode).</summary>
    public event Action? HydrationRequested;

    /// <summary>True once the mirror has been loaded from the database.</summary>
    public bool IsLoaded => _db is not null;

    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled; one wake-up covers every commit before it.
        }
    }

    /// <summary>Opens the database and loads the mirror; false while storage is unavailable.</summary>
    public bool TryLoad()
    {
        if (_db is not null)
        {
            return true;
        }
        SqliteConnection? db = null;
        try
        {
            Directory.CreateDirectory(_options.DataDirectory);
            db = ReceiverDatabase.Open(_options.DataDirectory, _options.CommitTimeout);
            using (var candidates = db.CreateCommand())
            {
                candidates.CommandText = "SELECT data FROM candidates";
                using var reader = candidates.ExecuteReader();
                while (reader.Read())
                {
                    _mirror.Put(JsonSerializer.Deserialize(reader.GetString(0), CandidateJson.Default.CandidateRecord)!);
                }
            }
            using (var merges = db.CreateCommand())
            {
                merges.CommandText = "SELECT loser_id, survivor_id FROM merged_candidates";
                using var reader = merges.ExecuteReader();
                while (reader.Read())
                {
                    _mirror.RecordMerge(reader.GetInt64(0), reader.GetInt64(1));
                }
            }
            using (var last = db.CreateCommand())
            {
                // sqlite_sequence keeps the last number even after old changes were pruned.
                last.CommandText = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)";
                _mirror.Published(Convert.ToInt64(last.ExecuteScalar(), CultureInfo.InvariantCulture));
            }
            _tombstones.Load(db);
            _metrics.Candidates.Set(_mirror.Count);
            _log = new InboxLogReader(_options.DataDirectory, dropPassedSegments: true);
            _eraser = new InboxLogEraser(_options.DataDirectory);
            _db = db;
            LogLoaded(_logger, _mirror.Count, _mirror.LastChangeNumber);
            return true;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            db?.Dispose();
            LogLoadFailed(_logger, _options.DataDirectory, ex.Message);
            return false;
        }
    }

    /// <summary>Processes every event that is due now; returns how many were handled (applied, retried or dead-lettered).</summary>
    public Task<int> ProcessDueAsync(CancellationToken cancellationToken) => ProcessDueAsync(BatchSize, cancellationToken);

    private async Task<int> ProcessDueAsync(int limit, CancellationToken cancellationToken)
    {
        if (!TryLoad())
        {
            return 0;
        }
        var now = _time.GetUtcNow();
        var handled = 0;
        var blocked = new HashSet<long>();
        // Candidate state after the earlier events of this pass, which are not committed yet.
        var overlay = new Dictionary<long, CandidateRecord?>();
        CandidateRecord? Current(long id) => overlay.TryGetValue(id, out var pending) ? pending : _mirror.Get(id);
        // Tombstones set by earlier events of this pass, not committed yet.
        var passTombstones = new Dictionary<long, string?>();
        string? TombstoneReason(long id) => passTombstones.TryGetValue(id, out var reason) ? reason : _tombstones.ReasonFor(id);
        var outcomes = new List<Outcome>();
        foreach (var row in ReadPending(limit))
        {
            cancellationToken.ThrowIfCancellationRequested();
            long? candidateId = null;
            try
            {
                using var document = JsonDocument.Parse(row.Body ?? throw new PoisonEventException("body missing or damaged in the inbox log"));
                candidateId = WebhookEventInterpreter.CandidateIdOf(row.Action, document.RootElement);
                if (candidateId is { } waiting && blocked.Contains(waiting))
                {
                    continue;
                }
                if (row.NextAttemptAt > now)
                {
                    if (candidateId is { } later)
                    {
                        blocked.Add(later);
                    }
                    continue;
                }
                var ignored = new List<(long CandidateId, string Reason)>();
                var changes = PrivacyGuard.Filter(WebhookEventInterpreter.Interpret(row.Action, document.RootElement, Current, now), TombstoneReason, ignored);
                foreach (var change in changes)
                {
                    overlay[change.CandidateId] = change.Kind is CandidateChangeKind.Deleted or CandidateChangeKind.Merged ? null : change.Candidate;
                    passTombstones[change.CandidateId] = TombstoneStore.ReasonOf(change);
                }
                outcomes.Add(new Outcome(row, changes, null, null) { CandidateId = candidateId, Ignored = ignored });
            }
            catch (Exception ex) when (ex is PoisonEventException or JsonException)
            {
                outcomes.Add(new Outcome(row, [], null, ex.Message) { CandidateId = candidateId });
            }
            catch (Exception ex) when (IsDeterministic(ex))
            {
                // Parsing and interpreting are pure: the same body fails the same way on every
                // attempt, so retrying with backoff would only delay the dead letter by hours.
                outcomes.Add(new Outcome(row, [], null, $"cannot be read: {ex.GetType().Name}: {ex.Message}"));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var attempts = row.Attempts + 1;
                if (attempts >= _options.MaxAttempts)
                {
                    outcomes.Add(new Outcome(row, [], null, $"gave up after {attempts} attempts: {ex.GetType().Name}: {ex.Message}") { CandidateId = candidateId });
                }
                else
                {
                    outcomes.Add(new Outcome(row, [], ex, null));
                    if (candidateId is { } failed)
                    {
                        blocked.Add(failed);
                    }
                }
            }
            handled++;
            if (outcomes.Count == ChunkSize)
            {
                await CommitAsync(outcomes, now).ConfigureAwait(false);
                outcomes = [];
            }
        }
        if (outcomes.Count > 0)
        {
            await CommitAsync(outcomes, now).ConfigureAwait(false);
        }
        if (now - _lastPrune >= PruneEvery)
        {
            await PruneAsync(now).ConfigureAwait(false);
        }
        if (handled > 0 && now - _lastCheckpoint >= CheckpointEvery)
        {
            _lastCheckpoint = now;
            // Passive: copies what it can without ever blocking the inbox writer; on a thread of
            // its own, not one of the pool's few workers that serve requests. While commits keep
            // coming it never reaches the end of the WAL, so SQLite never syncs the database file
            // after it: syncing it here keeps the writer's own checkpoint (WAL past 64 MiB) from
            // having to flush every page copied since, with all deliveries waiting behind it.
            var db = _db!;
            await Task.Factory.StartNew(() =>
            {
                using (var checkpoint = db.CreateCommand())
                {
                    checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                    using var result = checkpoint.ExecuteReader();
                    if (result.Read())
                    {
                        Volatile.Write(ref _walFrames, result.GetInt64(1));
                    }
                }
                SyncDatabaseFile();
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        if (_scrubWalSince is { } since && (_inbox.DeliveriesInFlight == 0 || now - since >= ScrubWalWithin))
        {
            await ScrubWalAsync().ConfigureAwait(false);
        }
        else if (handled > 0 && handled < limit && _inbox.DeliveriesInFlight == 0 && Volatile.Read(ref _walFrames) > IdleRestartWalFrames)
        {
            // The backlog is done and no delivery is waiting: a burst's WAL is copied back and the
            // next commit starts it again from its first byte (a passive checkpoint cannot restart
            // a WAL that commits keep appending to). RESTART, not TRUNCATE: the file keeps its
            // blocks (at most journal_size_limit, 64 MiB), so the next burst writes over them and
            // its fdatasyncs flush data only, where appending to a truncated file would cost a
            // file-system journal commit per sync. This runs on the writer, so it is complete:
            // nothing appends while it copies the last frames. A reader in the way makes it give
            // up after 100 ms rather than hold deliveries back.
            await _inbox.WriteAsync(db => ReceiverDatabase.Execute(db, $"PRAGMA busy_timeout = 100; PRAGMA wal_checkpoint(RESTART); PRAGMA busy_timeout = {(int)_options.CommitTimeout.TotalMilliseconds}")).ConfigureAwait(false);
            Volatile.Write(ref _walFrames, 0);
        }
        return handled;
    }

    /// <summary>Deletes processed events, change-log entries and completed write-backs older than the retention window; returns the number of events deleted.</summary>
    public async Task<int> PruneAsync(DateTimeOffset now)
    {
        _lastPrune = now;
        var cut = (now - _options.Retention).ToUnixTimeMilliseconds();
        var deadCut = (now - _options.DeadLetterRetention).ToUnixTimeMilliseconds();
        int events = 0, changes = 0, deadLetters = 0;
        await _inbox.WriteAsync(db =>
        {
            using var tx = db.BeginTransaction();
            using var command = db.CreateCommand();
            command.Transaction = tx;
            command.Parameters.AddWithValue("$cut", cut);
            command.Parameters.AddWithValue("$deadCut", deadCut);
            command.CommandText = "DELETE FROM inbox_bodies WHERE seq IN (SELECT seq FROM inbox WHERE state = 1 AND processed_at < $cut)";
            command.ExecuteNonQuery();
            command.CommandText = "DELETE FROM inbox WHERE state = 1 AND processed_at < $cut RETURNING event_id";
            var forgotten = new List<string>();
            using (var deleted = command.ExecuteReader())
            {
                while (deleted.Read())
                {
                    forgotten.Add(deleted.GetString(0));
                }
            }
            events = forgotten.Count;
            // Dead letters past their own retention go with their inbox rows (and so their event ids).
            command.CommandText = "DELETE FROM inbox WHERE state = 2 AND seq IN (SELECT seq FROM dead_letters WHERE failed_at < $deadCut) RETURNING event_id";
            using (var deleted = command.ExecuteReader())
            {
                while (deleted.Read())
                {
                    forgotten.Add(deleted.GetString(0));
                }
            }
            command.CommandText = "DELETE FROM dead_letters WHERE failed_at < $deadCut";
            deadLetters = command.ExecuteNonQuery();
            command.CommandText = "DELETE FROM changes WHERE changed_at < $cut";
            changes = command.ExecuteNonQuery();
            // Write-back ids older than retention are not expected to be retried any more.
            command.CommandText = "DELETE FROM writeback_outbox WHERE state = 1 AND completed_at < $cut";
            command.ExecuteNonQuery();
            tx.Commit();
            _inbox.ForgetEventIds(forgotten);
            _inbox.DeleteUnusedLogSegments(db);
        }).ConfigureAwait(false);
        if (events + changes + deadLetters > 0)
        {
            LogPruned(_logger, events, changes, deadLetters);
        }
        return events;
    }

    /// <summary>Zeros the log records of events that were just processed or dead-lettered (committed first: a crash in between leaves a segment no row points to, deleted by pruning).</summary>
    private void EraseBodies(IEnumerable<PendingEvent> rows)
    {
        try
        {
            foreach (var row in rows)
            {
                if (row.BodyAt is { } at)
                {
                    _eraser!.Erase(at.Segment, at.Offset, at.Length);
                }
            }
        }
        catch (IOException ex)
        {
            // The segment stays until pruning deletes it (no row points into it any more).
            LogScrubDeferred(_logger, ex.Message);
        }
    }

    /// <summary>
    /// Checkpoints the whole WAL into the database and truncates it, so the pages written before a
    /// delete, merge or anonymisation (with the person's data) are in no file any more; the database
    /// file's own copies were zeroed by secure_delete. Runs on the writer; a reader in the way makes
    /// it give up after 100 ms and try again on a later pass.
    /// </summary>
    public async Task<bool> ScrubWalAsync()
    {
        var done = false;
        await _inbox.WriteAsync(db =>
        {
            ReceiverDatabase.Execute(db, "PRAGMA busy_timeout = 100");
            try
            {
                using var checkpoint = db.CreateCommand();
                checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
                using var result = checkpoint.ExecuteReader();
                done = result.Read() && result.GetInt32(0) == 0;
            }
            finally
            {
                ReceiverDatabase.Execute(db, $"PRAGMA busy_timeout = {(int)_options.CommitTimeout.TotalMilliseconds}");
            }
        }).ConfigureAwait(false);
        if (done)
        {
            _scrubWalSince = null;
        }
        else
        {
            LogScrubDeferred(_logger, "a reader holds the WAL");
        }
        return done;
    }

    private void SyncDatabaseFile()
    {
        try
        {
            _databaseFile ??= FileSync.OpenForSync(Path.Combine(_options.DataDirectory, ReceiverDatabase.FileName));
            FileSync.DataSync(_databaseFile);
        }
        catch (IOException)
        {
            // Only an early flush: SQLite syncs the file itself before it reuses the WAL.
            _databaseFile?.Dispose();
            _databaseFile = null;
        }
    }

    /// <summary>When the earliest scheduled retry is due, if any.</summary>
    public DateTimeOffset? NextRetryAt()
    {
        if (_db is null)
        {
            return null;
        }
        using var command = _db.CreateCommand();
        command.CommandText = "SELECT MIN(next_attempt_at) FROM inbox WHERE state = 0";
        var value = command.ExecuteScalar();
        return value is null or DBNull ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(value, CultureInfo.InvariantCulture));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var busy = _inbox.DeliveriesInFlight > 0;
                var started = _time.GetTimestamp();
                var handled = await ProcessDueAsync(busy ? BusyBatchSize : BatchSize, stoppingToken).ConfigureAwait(false);
                if (handled > 0)
                {
                    await Task.Delay(busy ? _time.GetElapsedTime(started) * BusyYield : PassSpacing, _time, stoppingToken).ConfigureAwait(false);
                    continue;
                }
                var now = _time.GetUtcNow();
                wait = !IsLoaded ? TimeSpan.FromSeconds(1)
                    : NextRetryAt() is { } due && due - now < IdlePoll ? due - now : IdlePoll;
                if (_scrubWalSince is not null && wait > ScrubRetry)
                {
                    wait = ScrubRetry;
                }
            }
            catch (Exception ex) when (ex is SqliteException or IOException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                LogPassFailed(_logger, ex, ex.GetType().Name);
                wait = TimeSpan.FromSeconds(1);
            }
            if (wait > TimeSpan.Zero)
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var signalled = _wake.WaitAsync(wake.Token);
                var delay = Task.Delay(wait, _time, wake.Token);
                await Task.WhenAny(signalled, delay).ConfigureAwait(false);
                await wake.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        // The loop may be inside a pass; let it finish before its connection goes away.
        try
        {
            ExecuteTask?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        _db?.Dispose();
        _log?.Dispose();
        _eraser?.Dispose();
        _databaseFile?.Dispose();
        _wake.Dispose();
        _commitGate.Dispose();
    }

    private List<PendingEvent> ReadPending(int limit)
    {
        using var command = _db!.CreateCommand();
        // Bodies are in the inbox log; events stored before schema version 3 have theirs in inbox_bodies.
        command.CommandText = """
            SELECT i.seq, i.event_id, i.action, i.attempts, i.next_attempt_at, i.body_segment, i.body_offset, i.body_length,
                   CASE WHEN i.body_segment IS NULL THEN (SELECT b.body FROM inbox_bodies b WHERE b.seq = i.seq) END
            FROM inbox i
            WHERE i.state = 0 ORDER BY i.seq LIMIT $limit
            """;
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var rows = new List<PendingEvent>();
        while (reader.Read())
        {
            var seq = reader.GetInt64(0);
            var body = reader.IsDBNull(5)
                ? reader.IsDBNull(8) ? null : (byte[])reader.GetValue(8)
                : _log!.Read(reader.GetInt64(5), reader.GetInt64(6), reader.GetInt32(7), seq);
            rows.Add(new PendingEvent(seq, reader.GetString(1), reader.GetString(2), body,
                reader.GetInt32(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)))
            {
                BodyAt = reader.IsDBNull(5) ? null : (reader.GetInt64(5), reader.GetInt64(6), reader.GetInt32(7)),
            });
        }
        return rows;
    }

    /// <summary>Writes a pass's outcomes in one transaction on the inbox writer, then publishes the applied changes.</summary>
    private async Task CommitAsync(List<Outcome> outcomes, DateTimeOffset now)
    {
        await _commitGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await CommitLockedAsync(outcomes, now).ConfigureAwait(false);
        }
        finally
        {
            _commitGate.Release();
        }
    }

    private async Task CommitLockedAsync(List<Outcome> outcomes, DateTimeOffset now)
    {
        var hydrate = _options.Harvest;
        var hydrationQueued = false;
        var nowMs = now.ToUnixTimeMilliseconds();
        // Numbering and serialising happen here, off the writer: every writer of the change log
        // holds the commit gate, so the next numbers are known.
        var committed = new List<MirrorChange>();
        var rows = new List<(MirrorChange Change, string? Data, bool WasMerged)>();
        var number = _mirror.LastChangeNumber;
        foreach (var outcome in outcomes.Where(o => o.DeadReason is null && o.Failure is null))
        {
            foreach (var change in outcome.Changes)
            {
                number++;
                var numbered = change with { Candidate = change.Candidate is { } c ? c with { ChangeNumber = number } : null, ChangeNumber = number };
                committed.Add(numbered);
                rows.Add((numbered, numbered.Candidate is null ? null : JsonSerializer.Serialize(numbered.Candidate, CandidateJson.Default.CandidateRecord), _mirror.SurvivorOf(change.CandidateId) is not null));
            }
        }
        await _inbox.WriteAsync(db =>
        {
            using var tx = db.BeginTransaction();
            using var writer = new MirrorWriter(db, tx, nowMs);
            var next = 0;
            foreach (var outcome in outcomes)
            {
                if (outcome.DeadReason is { } reason)
                {
                    WriteDeadLetter(db, tx, outcome.Row, outcome.CandidateId, reason, nowMs);
                }
                else if (outcome.Failure is { } failure)
                {
                    WriteRetry(db, tx, outcome.Row, failure, now);
                }
                else
                {
                    for (var i = 0; i < outcome.Changes.Count; i++, next++)
                    {
                        var change = rows[next].Change;
                        writer.Write(change, rows[next].Data, rows[next].WasMerged);
                        TombstoneStore.Write(db, tx, change, nowMs);
                        CandidateRedaction.Apply(db, tx, change);
                        if (hydrate is not null)
                        {
                            // Webhook bodies are partial: fetch the full record. A delete cancels a
                            // pending fetch; a merge cancels the loser's and fetches the winner (which
                            // holds the loser's data now); an anonymised record is read again so the
                            // mirror holds what Greenhouse kept (the scrubbed fields stay scrubbed).
                            switch (change.Kind)
                            {
                                case CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized:
                                    HydrationQueue.Request(db, tx, change.CandidateId, now, hydrate);
                                    hydrationQueued = true;
                                    break;
                                case CandidateChangeKind.Merged:
                                    HydrationQueue.Cancel(db, tx, change.CandidateId);
                                    HydrationQueue.Request(db, tx, change.MergedInto!.Value, now, hydrate);
                                    hydrationQueued = true;
                                    break;
                                default:
                                    HydrationQueue.Cancel(db, tx, change.CandidateId);
                                    break;
                            }
                        }
                    }
                    writer.MarkProcessed(outcome.Row.Seq);
                }
            }
            tx.Commit();
        }).ConfigureAwait(false);

        Publish(committed);
        if (hydrationQueued)
        {
            HydrationRequested?.Invoke();
        }
        EraseBodies(outcomes.Where(o => o.Failure is null).Select(o => o.Row));
        foreach (var outcome in outcomes)
        {
            foreach (var (candidateId, why) in outcome.Ignored)
            {
                _metrics.RecordIgnoredUpdate(why);
                LogIgnoredUpdate(_logger, candidateId, why);
            }
            if (outcome.DeadReason is { } reason)
            {
                _metrics.RecordProcessed(outcome.Row.Action, "dead_lettered", now);
                LogDeadLettered(_logger, outcome.Row.EventId, outcome.Row.Action, reason);
            }
            else if (outcome.Failure is { } failure)
            {
                _metrics.RecordProcessed(outcome.Row.Action, "retried", now);
                LogRetry(_logger, outcome.Row.EventId, outcome.Row.Action, outcome.Row.Attempts + 1, RetryDelay(outcome.Row.Attempts + 1), failure.GetType().Name);
            }
            else
            {
                _metrics.RecordProcessed(outcome.Row.Action, outcome.Changes.Count > 0 ? "applied" : "recorded", now);
            }
        }
    }

    /// <summary>
    /// Applies changes found by Harvest sync (hydration, sweeps) in one transaction with
    /// <paramref name="extra"/> (e.g. the queue bookkeeping) and publishes them; returns them numbered.
    /// </summary>
    public async Task<IReadOnlyList<MirrorChange>> ApplySyncChangesAsync(IReadOnlyList<MirrorChange> changes, Action<SqliteConnection, SqliteTransaction>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (!TryLoad())
        {
            throw new InvalidOperationException("The receiver database cannot be opened.");
        }
        await _commitGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var number = _mirror.LastChangeNumber;
            var rows = new List<(MirrorChange Change, string? Data, bool WasMerged)>(changes.Count);
            foreach (var change in changes)
            {
                number++;
                var numbered = change with { Candidate = change.Candidate is { } c ? c with { ChangeNumber = number } : null, ChangeNumber = number };
                rows.Add((numbered, numbered.Candidate is null ? null : JsonSerializer.Serialize(numbered.Candidate, CandidateJson.Default.CandidateRecord), _mirror.SurvivorOf(change.CandidateId) is not null));
            }
            await _inbox.WriteAsync(db =>
            {
                using var tx = db.BeginTransaction();
                using (var writer = new MirrorWriter(db, tx, nowMs))
                {
                    foreach (var (change, data, wasMerged) in rows)
                    {
                        writer.Write(change, data, wasMerged);
                        TombstoneStore.Write(db, tx, change, nowMs);
                        CandidateRedaction.Apply(db, tx, change);
                    }
                }
                extra?.Invoke(db, tx);
                tx.Commit();
            }).ConfigureAwait(false);
            var committed = rows.Select(r => r.Change).ToList();
            Publish(committed);
            return committed;
        }
        finally
        {
            _commitGate.Release();
        }
    }

    private static bool IsDeterministic(Exception ex) => ex is not ObjectDisposedException
        && ex is InvalidOperationException or FormatException or OverflowException or ArgumentException
            or InvalidCastException or KeyNotFoundException or IndexOutOfRangeException or DecoderFallbackException;

    /// <summary>Only after the commit: readers never see a change that a crash could take back.</summary>
    private void Publish(List<MirrorChange> committed)
    {
        foreach (var change in committed)
        {
            _tombstones.Published(change);
            if (CandidateRedaction.Removes(change.Kind))
            {
                _scrubWalSince ??= _time.GetUtcNow();
            }
            switch (change.Kind)
            {
                case CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized:
                    _mirror.Put(change.Candidate!);
                    break;
                case CandidateChangeKind.Deleted:
                    _mirror.Remove(change.CandidateId);
                    break;
                case CandidateChangeKind.Merged:
                    _mirror.Remove(change.CandidateId);
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

    private TimeSpan RetryDelay(int attempts)
    {
        var exponent = Math.Min(attempts - 1, 30);
        return TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryBaseDelay.Ticks * (1L << exponent)));
    }

    private void WriteRetry(SqliteConnection db, SqliteTransaction tx, PendingEvent row, Exception error, DateTimeOffset now)
    {
        var attempts = row.Attempts + 1;
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "UPDATE inbox SET attempts = $attempts, next_attempt_at = $next, last_error = $error WHERE seq = $seq";
        command.Parameters.AddWithValue("$attempts", attempts);
        command.Parameters.AddWithValue("$next", (now + RetryDelay(attempts)).ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$error", $"{error.GetType().Name}: {error.Message}");
        command.Parameters.AddWithValue("$seq", row.Seq);
        command.ExecuteNonQuery();
    }

    private static void WriteDeadLetter(SqliteConnection db, SqliteTransaction tx, PendingEvent row, long? candidateId, string reason, long nowMs)
    {
        using var command = db.CreateCommand();
        command.Transaction = tx;
        // The dead letter keeps the body (and the candidate, to redact it); the inbox row stops
        // pointing into the log, so it never keeps a log segment from being deleted.
        command.CommandText = """
            INSERT OR REPLACE INTO dead_letters(seq, event_id, action, body, received_at, failed_at, attempts, reason, candidate_id)
                SELECT i.seq, i.event_id, i.action, $body, i.received_at, $at, i.attempts + 1, $reason, $candidate
                FROM inbox i WHERE i.seq = $seq;
            UPDATE inbox SET state = 2, attempts = attempts + 1, last_error = $reason, body_segment = NULL, body_offset = NULL, body_length = NULL WHERE seq = $seq;
            DELETE FROM inbox_bodies WHERE seq = $seq;
            """;
        command.Parameters.AddWithValue("$candidate", candidateId is { } id ? id : DBNull.Value);
        command.Parameters.AddWithValue("$at", nowMs);
        command.Parameters.AddWithValue("$reason", reason);
        command.Parameters.AddWithValue("$seq", row.Seq);
        command.Parameters.Add("$body", SqliteType.Blob).Value = row.Body ?? [];
        command.ExecuteNonQuery();
    }

    /// <summary>The statements of one processing transaction, prepared once and reused for every change in it.</summary>
    private sealed class MirrorWriter : IDisposable
    {
        private readonly SqliteCommand _change;
        private readonly SqliteCommand _upsert;
        private readonly SqliteCommand _delete;
        private readonly SqliteCommand _unmerge;
        private readonly SqliteCommand _merge;
        private readonly SqliteCommand _processed;

        public MirrorWriter(SqliteConnection db, SqliteTransaction tx, long nowMs)
        {
            _change = Command(db, tx, "INSERT INTO changes(change_number, candidate_id, kind, data, merged_into, changed_at) VALUES ($n, $id, $kind, $data, $into, $at)", nowMs);
            _upsert = Command(db, tx, "INSERT INTO candidates(id, data) VALUES ($id, $data) ON CONFLICT(id) DO UPDATE SET data = excluded.data", nowMs);
            _delete = Command(db, tx, "DELETE FROM candidates WHERE id = $id", nowMs);
            _unmerge = Command(db, tx, "DELETE FROM merged_candidates WHERE loser_id = $id", nowMs);
            _merge = Command(db, tx, "INSERT INTO merged_candidates(loser_id, survivor_id, merged_at) VALUES ($id, $into, $at) ON CONFLICT(loser_id) DO UPDATE SET survivor_id = excluded.survivor_id, merged_at = excluded.merged_at", nowMs);
            // A processed event keeps only its id (dedupe): its body is erased from the log after the commit.
            _processed = Command(db, tx, """
                UPDATE inbox SET state = 1, processed_at = $at, attempts = attempts + 1, last_error = NULL, body_segment = NULL, body_offset = NULL, body_length = NULL WHERE seq = $id;
                DELETE FROM inbox_bodies WHERE seq = $id;
                """, nowMs);
        }

        public void Write(MirrorChange change, string? data, bool wasMerged)
        {
            Run(_change, ("$n", change.ChangeNumber), ("$id", change.CandidateId), ("$kind", (int)change.Kind), ("$data", data), ("$into", change.MergedInto));
            switch (change.Kind)
            {
                case CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized:
                    Run(_upsert, ("$id", change.CandidateId), ("$data", data));
                    if (wasMerged)
                    {
                        // A record that comes back after a merge is live again.
                        Run(_unmerge, ("$id", change.CandidateId));
                    }
                    break;
                case CandidateChangeKind.Deleted:
                    Run(_delete, ("$id", change.CandidateId));
                    break;
                case CandidateChangeKind.Merged:
                    Run(_delete, ("$id", change.CandidateId));
                    Run(_merge, ("$id", change.CandidateId), ("$into", change.MergedInto));
                    break;
            }
        }

        public void MarkProcessed(long seq) => Run(_processed, ("$id", seq));

        public void Dispose()
        {
            foreach (var command in new[] { _change, _upsert, _delete, _unmerge, _merge, _processed })
            {
                command.Dispose();
            }
        }

        private static SqliteCommand Command(SqliteConnection db, SqliteTransaction tx, string sql, long nowMs)
        {
            var command = db.CreateCommand();
            command.Transaction = tx;
            command.CommandText = sql;
            foreach (var name in new[] { "$n", "$id", "$kind", "$data", "$into", "$at" })
            {
                if (sql.Contains(name, StringComparison.Ordinal))
                {
                    command.Parameters.AddWithValue(name, name == "$at" ? nowMs : DBNull.Value);
                }
            }
            return command;
        }

        private static void Run(SqliteCommand command, params (string Name, object? Value)[] values)
        {
            foreach (var (name, value) in values)
            {
                command.Parameters[name].Value = value ?? DBNull.Value;
            }
            command.ExecuteNonQuery();
        }
    }

    /// <summary>What a pass decided for one event: applied (changes), retry (failure) or dead letter (reason).</summary>
    private sealed record Outcome(PendingEvent Row, IReadOnlyList<MirrorChange> Changes, Exception? Failure, string? DeadReason)
    {
        public long? CandidateId { get; init; }

        /// <summary>Upserts the privacy guard dropped: candidate and reason.</summary>
        public IReadOnlyList<(long CandidateId, string Reason)> Ignored { get; init; } = [];
    }

    /// <summary>A stored event; <see cref="Body"/> is null when its record in the inbox log is missing or damaged.</summary>
    private sealed record PendingEvent(long Seq, string EventId, string Action, byte[]? Body, int Attempts, DateTimeOffset NextAttemptAt)
    {
        /// <summary>Where the body is in the inbox log; null for bodies stored before schema 3.</summary>
        public (long Segment, long Offset, int Length)? BodyAt { get; init; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Candidate mirror loaded: {Candidates} candidates, change log at {ChangeNumber}")]
    private static partial void LogLoaded(ILogger logger, int candidates, long changeNumber);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot open the database in {DataDirectory} to load the mirror: {Reason}; retrying")]
    private static partial void LogLoadFailed(ILogger logger, string dataDirectory, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} ({Action}) failed attempt {Attempt} with {Error}; retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string eventId, string action, int attempt, TimeSpan delay, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {EventId} ({Action}) moved to the dead letters: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string eventId, string action, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Events} processed events, {Changes} change-log entries and {DeadLetters} dead letters past retention")]
    private static partial void LogPruned(ILogger logger, int events, int changes, int deadLetters);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignored an update of candidate {CandidateId}: it was {Reason} (tombstoned); only a Harvest read may bring it back")]
    private static partial void LogIgnoredUpdate(ILogger logger, long candidateId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not truncate the WAL after removing personal data ({Reason}); retrying")]
    private static partial void LogScrubDeferred(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing pass failed ({Error}); retrying")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, string error);
}
