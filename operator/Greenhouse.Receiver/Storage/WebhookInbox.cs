using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using Greenhouse.Receiver.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Durable inbox of verified deliveries, and the single writer of the receiver database.
/// <para>
/// A delivery is durable once its record is in the inbox log (<see cref="InboxLog"/>): body, event
/// id, action and arrival time. The ingest thread writes every delivery that arrived while the previous
/// write was running with one write call (group commit), and the fsync thread syncs the log and only then
/// answers them; while one group's fsync runs, the next group is already being written. Nothing on this
/// path touches SQLite, so a checkpoint, a slow transaction or a busy database never holds up an answer.
/// </para>
/// <para>
/// The database thread inserts the rows of synced records into the <c>inbox</c> table in batches (every
/// few milliseconds, or when the processor asks, <see cref="IndexAsync"/>), together with the log position
/// they reach, and runs the transactions of the stores (<see cref="MirrorStore"/>,
/// <see cref="HydrationQueueStore"/>, <see cref="WritebackOutbox"/>, <see cref="DatabaseMaintenance"/>)
/// that call <see cref="WriteAsync"/> with their own SQL, so ingest never waits on a database lock held by
/// another connection. SQLite's commits are not synced one by one: after a power loss the database may
/// miss its newest commits, and on open the rows of every record after the saved position are rebuilt
/// from the log. Before a processed body is erased from the log, <see cref="SyncDatabaseAsync"/> makes
/// the commit that processed it durable, so a record is never erased before its row is on disk.
/// </para>
/// </summary>
public sealed partial class WebhookInbox : IHostedService, IDisposable
{
    private const int MaxBatch = 512;
    private const int WalCheckpointPages = 16384;
    // Rows are inserted once this many are waiting, or once the oldest has waited IndexDelay.
    private const int IndexBatch = 512;
    // Rows waiting in memory when the database cannot take them (locked, failing): past this many,
    // deliveries are answered 503 until it can, so memory stays bounded (about 200 bytes a row).
    private const int MaxUnindexed = 100_000;
    private static readonly TimeSpan IndexDelay = TimeSpan.FromMilliseconds(20);
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    private readonly ReceiverOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookInbox> _logger;
    // No spinning before a wait blocks (spinCount 0) on any of the inbox's threads: on a pod with one or
    // two cores a spinning waiter takes the core from the request threads that would give it work.
    private readonly ConcurrentQueue<PendingWrite> _writes = new();
    private readonly ManualResetEventSlim _writeSignal = new(false, spinCount: 0);
    private readonly ConcurrentQueue<WriteJob> _jobs = new();
    private readonly ManualResetEventSlim _jobSignal = new(false, spinCount: 0);
    private readonly ConcurrentQueue<CommittedBatch> _committed = new();
    private readonly ManualResetEventSlim _syncSignal = new(false, spinCount: 0);
    private Thread? _ingest;
    private Thread? _syncer;
    private Thread? _writer;
    private volatile bool _stopping;
    private volatile bool _ingestDone;
    private volatile bool _syncerDone;
    // Held while a group is written to the log, and while the lowest segment in use is worked out
    // (so a segment that the group being written uses is never taken for unused).
    private readonly Lock _append = new();
    // Records synced but not yet in the inbox table, in seq order; and the highest synced seq.
    private readonly Lock _indexLock = new();
    private readonly List<LogRecord> _unindexed = [];
    private long _durableSeq;
    private long _lastSeq;
    private volatile bool _recovered;
    private FileStream? _wal;
    private SqliteConnection? _connection;
    private volatile bool _databaseOpen;
    private InboxStore.InsertStatement? _insert;
    // Read with Volatile.Read outside the database thread; replaced with Interlocked when a log fails.
    private InboxLog? _log;
    // Hashes (XXH128) of the event ids of every stored delivery: the duplicate check.
    private readonly Lock _idsLock = new();
    private readonly EventIdSet _eventIds = new();
    private volatile bool _healthy;
    private int _deliveriesInFlight;
    private DateTimeOffset _lastOpenAttempt = DateTimeOffset.MinValue;

    public WebhookInbox(ReceiverOptions options, TimeProvider time, ILogger<WebhookInbox> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised (on the fsync thread) after a sync that made at least one new event durable.</summary>
    public event Action? Committed;

    /// <summary>Raised (on the ingest thread) after each group write: its duration (the bodies' write) and its deliveries.</summary>
    public event Action<TimeSpan, int>? GroupCommitted;

    /// <summary>Raised (on the fsync thread) after each durability cycle: how long the log sync took, and the deliveries it answered.</summary>
    public event Action<TimeSpan, int>? Synced;

    /// <summary>False while the database or the log cannot be opened or the last write failed.</summary>
    public bool IsHealthy => _healthy;

    /// <summary>Deliveries queued or being written: the processor backs off while there are any.</summary>
    public int DeliveriesInFlight => Volatile.Read(ref _deliveriesInFlight);

    /// <summary>Opens the database now (so /readyz is true from the start when storage works) and starts the threads.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        TryOpen();
        _ingest = new Thread(IngestLoop) { IsBackground = true, Name = "webhook-inbox-ingest" };
        _syncer = new Thread(SyncLoop) { IsBackground = true, Name = "webhook-inbox-fsync" };
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "webhook-inbox-writer" };
        _ingest.Start();
        _syncer.Start();
        _writer.Start();
        return Task.CompletedTask;
    }

    /// <summary>Finishes the group in progress and its sync, and inserts its rows; anything queued after that is answered 503 (Greenhouse retries).</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        StopThreads();
        while (_writes.TryDequeue(out var write))
        {
            Complete(write, InboxWriteResult.Unavailable);
        }
        while (_jobs.TryDequeue(out var job))
        {
            job.Completion.TrySetCanceled(CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the database thread's connection, after the rows of every delivery
    /// synced so far are in the inbox table; the work manages its own transaction. Its commit is not
    /// fsynced (<see cref="SyncDatabaseAsync"/> does that): use it only for writes that can be re-derived
    /// from the inbox after a power loss. Fails when the database cannot be opened. Only the stores of this
    /// namespace call it, each with its own SQL (an architecture test keeps SQLite types out of every
    /// other namespace).
    /// </summary>
    internal Task WriteAsync(Action<SqliteConnection> work)
    {
        if (_stopping)
        {
            return Task.FromException(new InvalidOperationException("the inbox writer has stopped"));
        }
        var job = new WriteJob(work);
        _jobs.Enqueue(job);
        _jobSignal.Set();
        return job.Completion.Task;
    }

    /// <summary>Completes once the rows of every delivery answered so far are in the inbox table.</summary>
    public Task IndexAsync() => WriteAsync(static _ => { });

    /// <summary>Completes once every commit made before the call is on disk (an fdatasync of SQLite's WAL).</summary>
    public Task SyncDatabaseAsync() => WriteAsync(_ => SyncWal());

    /// <summary>
    /// Stores one delivery; completes after the sync that made it durable (or failed). The body is copied
    /// into the log by then; until the task completes the caller must not reuse its memory (a wait that
    /// ends by cancellation leaves the copy still to come). The caller's continuation runs on the thread pool.
    /// </summary>
    public Task<InboxWriteResult> StoreAsync(string eventId, string action, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        // A caller that gives up still leaves the write in the group; only its wait ends.
        Store(eventId, action, body, answerOnSyncThread: false).WaitAsync(cancellationToken);

    /// <summary>
    /// <see cref="StoreAsync"/> for the ingest endpoint: the continuation that answers the request runs on
    /// the fsync thread itself, right after the sync (on the ingest thread for a write that failed),
    /// instead of queueing behind new requests on the thread pool (at half the maximum rate that queue
    /// reached 60-250 items in the slow seconds). The continuation must not block or wait for the inbox:
    /// the next group's sync waits for it.
    /// </summary>
    internal Task<InboxWriteResult> StoreAndAnswerOnSyncThreadAsync(string eventId, string action, ReadOnlyMemory<byte> body) =>
        Store(eventId, action, body, answerOnSyncThread: true);

    private Task<InboxWriteResult> Store(string eventId, string action, ReadOnlyMemory<byte> body, bool answerOnSyncThread)
    {
        if (_stopping)
        {
            return Task.FromResult(InboxWriteResult.Unavailable);
        }
        var write = new PendingWrite(eventId, action, body, answerOnSyncThread);
        Interlocked.Increment(ref _deliveriesInFlight);
        _writes.Enqueue(write);
        _writeSignal.Set();
        return write.Completion.Task;
    }

    public void Dispose()
    {
        // The threads may be inside a write; let them finish before the connection goes away.
        StopThreads();
        _insert?.Dispose();
        _connection?.Dispose();
        _log?.Dispose();
        _wal?.Dispose();
        _writeSignal.Dispose();
        _jobSignal.Dispose();
        _syncSignal.Dispose();
    }

    /// <summary>The ingest thread finishes its group, the syncer makes every written group durable and answers it, then the database thread inserts their rows.</summary>
    private void StopThreads()
    {
        _stopping = true;
        _writeSignal.Set();
        _ingest?.Join(TimeSpan.FromSeconds(10));
        _ingestDone = true;
        _syncSignal.Set();
        _syncer?.Join(TimeSpan.FromSeconds(10));
        _syncerDone = true;
        _jobSignal.Set();
        _writer?.Join(TimeSpan.FromSeconds(10));
    }

    private void IngestLoop()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (true)
        {
            if (_writes.IsEmpty)
            {
                if (_stopping)
                {
                    return;
                }
                // Producers enqueue before they set the event, so nothing is missed between Wait and Reset.
                _writeSignal.Wait();
                _writeSignal.Reset();
            }
            while (batch.Count < MaxBatch && _writes.TryDequeue(out var write))
            {
                batch.Add(write);
            }
            if (batch.Count > 0)
            {
                try
                {
                    Append(batch);
                }
                catch (Exception ex)
                {
                    // Whatever went wrong, the thread must live on: a dead ingest thread would
                    // leave every later delivery waiting for an answer that never comes.
                    Fail(batch, ex);
                }
                batch.Clear();
            }
        }
    }

    /// <summary>Writes one group's new deliveries to the log with one call and hands them to the fsync thread.</summary>
    private void Append(List<PendingWrite> batch)
    {
        var log = Volatile.Read(ref _log);
        if (log is null || !_databaseOpen || UnindexedCount >= MaxUnindexed)
        {
            // Storage is not open (or failed), or the rows already waiting are at their bound: the
            // database thread retries opening it and inserting them.
            Fail(batch, null);
            _jobSignal.Set();
            return;
        }
        var results = new InboxWriteResult[batch.Count];
        var entries = new List<LogRecord>(batch.Count);
        var started = Stopwatch.GetTimestamp();
        var receivedAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_append)
        {
            lock (_idsLock)
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    // Added now, so a copy later in the same group is a duplicate; removed again if the write fails.
                    results[i] = _eventIds.Add(batch[i].IdHash) ? InboxWriteResult.Accepted : InboxWriteResult.Duplicate;
                }
            }
            try
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    if (results[i] != InboxWriteResult.Accepted)
                    {
                        continue;
                    }
                    var write = batch[i];
                    var (segment, offset) = log.NextPosition();
                    var seq = ++_lastSeq;
                    var length = log.Stage(seq, write.Body.Span, write.EventId, write.Action, receivedAt);
                    entries.Add(new LogRecord(seq, write.EventId, write.Action, receivedAt, segment, offset, write.Body.Length, offset + length));
                }
                log.WriteStaged();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
            {
                log.DiscardStaged();
                Forget(batch, results);
                // A log that failed a write may be unusable: the database thread opens a new segment.
                CloseLog(log);
                Fail(batch, ex);
                return;
            }
        }
        _healthy = true;
        _committed.Enqueue(new CommittedBatch([.. batch], results, entries, log));
        _syncSignal.Set();
        GroupCommitted?.Invoke(Stopwatch.GetElapsedTime(started), batch.Count);
    }

    private void Forget(List<PendingWrite> batch, InboxWriteResult[] results)
    {
        lock (_idsLock)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (results[i] == InboxWriteResult.Accepted)
                {
                    _eventIds.Remove(batch[i].IdHash);
                }
            }
        }
    }

    private void CloseLog(InboxLog log)
    {
        _healthy = false;
        if (ReferenceEquals(Interlocked.CompareExchange(ref _log, null, log), log))
        {
            log.Dispose();
        }
        _jobSignal.Set();
    }

    private void SyncLoop()
    {
        var batches = new List<CommittedBatch>();
        while (true)
        {
            if (_committed.IsEmpty)
            {
                if (_ingestDone)
                {
                    return;
                }
                // The ingest thread enqueues before it sets the event, as for its own queue.
                _syncSignal.Wait();
                _syncSignal.Reset();
            }
            while (_committed.TryDequeue(out var batch))
            {
                batches.Add(batch);
            }
            if (batches.Count == 0)
            {
                continue;
            }
            var started = Stopwatch.GetTimestamp();
            var durable = TrySyncLog(batches);
            var synced = Stopwatch.GetElapsedTime(started);
            var stored = false;
            var answered = 0;
            lock (_indexLock)
            {
                foreach (var batch in batches)
                {
                    if (durable)
                    {
                        _unindexed.AddRange(batch.Entries);
                        if (batch.Entries.Count > 0)
                        {
                            _durableSeq = batch.Entries[^1].Seq;
                        }
                    }
                }
            }
            foreach (var batch in batches)
            {
                answered += batch.Writes.Count;
                if (!durable)
                {
                    // Written but maybe not on disk: 503, and the ids are forgotten so Greenhouse's retry is stored anew.
                    Forget(batch.Writes, batch.Results);
                }
                for (var i = 0; i < batch.Writes.Count; i++)
                {
                    Complete(batch.Writes[i], durable ? batch.Results[i] : InboxWriteResult.Unavailable);
                }
                stored |= batch.Entries.Count > 0;
            }
            batches.Clear();
            Synced?.Invoke(synced, answered);
            if (durable && stored)
            {
                if (UnindexedCount >= IndexBatch)
                {
                    _jobSignal.Set();
                }
                Committed?.Invoke();
            }
        }
    }

    private int UnindexedCount
    {
        get
        {
            lock (_indexLock)
            {
                return _unindexed.Count;
            }
        }
    }

    /// <summary>Syncs the log the groups were written to (after a failure the ingest thread writes to a new one).</summary>
    private bool TrySyncLog(List<CommittedBatch> batches)
    {
        InboxLog? last = null;
        try
        {
            foreach (var batch in batches)
            {
                if (!ReferenceEquals(batch.Log, last))
                {
                    last = batch.Log;
                    last.Sync();
                }
            }
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            LogSyncFailed(_logger, _options.DataDirectory, ex.Message);
            if (last is not null)
            {
                CloseLog(last);
            }
            return false;
        }
    }

    private void WriteLoop()
    {
        // Not at a lower priority, although no answer waits for it: this thread completes the stores'
        // tasks, and a thread-pool worker that such a completion starts inherits its creator's nice
        // value (Linux), so a niced thread here could leave request threads niced too.
        var jobs = new List<WriteJob>();
        while (true)
        {
            if (_jobs.IsEmpty)
            {
                if (_syncerDone)
                {
                    // Stopping: the rows of everything answered go in before the connection closes.
                    if (TryOpen() is not null)
                    {
                        Index(force: true);
                    }
                    return;
                }
                // While rows wait, wake up in time to insert them.
                var waiting = UnindexedCount > 0;
                _jobSignal.Wait(waiting ? IndexDelay : Timeout.InfiniteTimeSpan);
                _jobSignal.Reset();
            }
            while (_jobs.TryDequeue(out var job))
            {
                jobs.Add(job);
            }
            var connection = TryOpen();
            // Jobs run after the rows of everything synced so far are in; if they cannot go in, neither can the jobs.
            var failed = connection is null ? null : Index(force: jobs.Count > 0);
            foreach (var job in jobs)
            {
                if (failed is not null)
                {
                    job.Completion.TrySetException(failed);
                }
                else
                {
                    Run(job, connection);
                }
            }
            jobs.Clear();
        }
    }

    private void Run(WriteJob job, SqliteConnection? connection)
    {
        if (connection is null)
        {
            job.Completion.TrySetException(new IOException($"the database in {_options.DataDirectory} cannot be opened"));
            return;
        }
        try
        {
            job.Work(connection);
            job.Completion.TrySetResult();
        }
        catch (Exception ex)
        {
            job.Completion.TrySetException(ex);
        }
    }

    /// <summary>Inserts the rows of synced records into the inbox table, with the log position they reach, in one transaction; the error if that failed.</summary>
    private Exception? Index(bool force)
    {
        List<LogRecord> take;
        lock (_indexLock)
        {
            if (_unindexed.Count == 0 || (!force && _unindexed.Count < IndexBatch
                && Stopwatch.GetElapsedTime(_unindexed[0].SeenAt) < IndexDelay))
            {
                return null;
            }
            take = [.. _unindexed];
            _unindexed.Clear();
        }
        try
        {
            InsertRows(_connection!, _insert!, take);
            return null;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            // Not inserted: back at the front, in order, for the next attempt on a reopened connection.
            lock (_indexLock)
            {
                _unindexed.InsertRange(0, take);
            }
            var code = (ex as SqliteException)?.SqliteErrorCode ?? 0;
            LogIndexFailed(_logger, ex, take.Count, code);
            if (code is not (SqliteBusy or SqliteLocked))
            {
                // Another error may have left the connection unusable: reopen it.
                CloseDatabase();
            }
            return ex;
        }
    }

    /// <summary>Inserts the rows in one transaction, with the log position the last one reaches.</summary>
    private static void InsertRows(SqliteConnection connection, InboxStore.InsertStatement insert, List<LogRecord> rows)
    {
        using var tx = connection.BeginTransaction();
        foreach (var row in rows)
        {
            insert.Insert(row);
        }
        SyncState.WriteInboxLogPosition(connection, tx, rows[^1].Segment, rows[^1].End);
        tx.Commit();
    }

    private void SyncWal()
    {
        // Synced with fdatasync, as SQLite itself does. The file is opened once per database connection
        // (CloseDatabase drops it): the writer's open connection keeps SQLite from deleting the WAL.
        if (_wal is null)
        {
            var path = Path.Combine(_options.DataDirectory, ReceiverDatabase.FileName + "-wal");
            if (!File.Exists(path))
            {
                // No WAL yet: every commit is in the database file.
                return;
            }
            _wal = FileSync.OpenForSync(path);
        }
        try
        {
            FileSync.DataSync(_wal);
        }
        catch
        {
            _wal.Dispose();
            _wal = null;
            throw;
        }
    }

    /// <summary>Forgets the ids of inbox rows just deleted (pruning); call only from work run by <see cref="WriteAsync"/>.</summary>
    internal void ForgetEventIds(IEnumerable<string> eventIds)
    {
        ArgumentNullException.ThrowIfNull(eventIds);
        lock (_idsLock)
        {
            foreach (var id in eventIds)
            {
                _eventIds.Remove(HashId(id));
            }
        }
    }

    /// <summary>Records of the log erased whole, per segment (<see cref="InboxStore.EraseBodies"/>): a segment left with none is reused once no row refers to it.</summary>
    public void MarkErased(IReadOnlyDictionary<long, int> erased)
    {
        ArgumentNullException.ThrowIfNull(erased);
        if (Volatile.Read(ref _log) is { } log)
        {
            foreach (var (segment, records) in erased)
            {
                log.MarkErased(segment, records);
            }
        }
    }

    /// <summary>Deletes log segments no inbox row refers to; call only from work run by <see cref="WriteAsync"/>.</summary>
    internal int DeleteUnusedLogSegments(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        InboxLog log;
        long below;
        lock (_append)
        {
            if (Volatile.Read(ref _log) is not { } current)
            {
                return 0;
            }
            log = current;
            var lowest = InboxStore.LowestBodySegment(connection) ?? log.CurrentSegment;
            lock (_indexLock)
            {
                if (_unindexed.Count > 0)
                {
                    lowest = Math.Min(lowest, _unindexed[0].Segment);
                }
            }
            // Records written but not synced yet are in the current segment or the one before it.
            foreach (var batch in _committed)
            {
                if (batch.Entries.Count > 0)
                {
                    lowest = Math.Min(lowest, batch.Entries[0].Segment);
                }
            }
            below = Math.Min(lowest, log.CurrentSegment);
        }
        // Outside the lock: the writer only ever writes the current segment, which is not below it.
        return log.DeleteSegmentsBelow(below);
    }

    internal static UInt128 HashId(string eventId)
    {
        // Ids are at most 200 characters (longer ones are replaced by the body's hash): no allocation.
        var max = Encoding.UTF8.GetMaxByteCount(eventId.Length);
        Span<byte> utf8 = max <= 1024 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(eventId, utf8);
        return XxHash128.HashToUInt128(utf8[..length]);
    }

    private void Fail(List<PendingWrite> batch, Exception? error)
    {
        if (error is not null)
        {
            _healthy = false;
            LogCommitFailed(_logger, error, batch.Count, (error as SqliteException)?.SqliteErrorCode ?? 0);
        }
        foreach (var write in batch)
        {
            Complete(write, InboxWriteResult.Unavailable);
        }
    }

    private void Complete(PendingWrite write, InboxWriteResult result)
    {
        if (write.Completion.TrySetResult(result))
        {
            Interlocked.Decrement(ref _deliveriesInFlight);
        }
    }

    /// <summary>Opens the connection (and, the first time, rebuilds rows from the log and loads the ids), and the log; null while that fails.</summary>
    private SqliteConnection? TryOpen()
    {
        if (_connection is not null && _log is not null)
        {
            return _connection;
        }
        // Re-trying an open that failed costs file-system calls; keep that modest under a flood of deliveries.
        var now = _time.GetUtcNow();
        if (now - _lastOpenAttempt < TimeSpan.FromMilliseconds(200))
        {
            return null;
        }
        _lastOpenAttempt = now;
        try
        {
            if (_connection is null)
            {
                // No fsync inside COMMIT: the log makes deliveries durable, SyncDatabaseAsync the rest.
                // The writer's open is the one that migrates the schema (readers never do).
                var connection = ReceiverDatabase.OpenWriter(_options.DataDirectory, _options.CommitTimeout);
                try
                {
                    // Most checkpointing is left to the processor's passive checkpoints, off this thread; the
                    // writer checkpoints only when the WAL passes 64 MiB (a passive checkpoint cannot finish
                    // while commits keep coming), so a long burst cannot grow the WAL without bound.
                    ReceiverDatabase.Execute(connection, $"PRAGMA wal_autocheckpoint = {WalCheckpointPages}; PRAGMA journal_size_limit = {WalCheckpointPages * 4096L}");
                    if (!_recovered)
                    {
                        DeleteRowsWithTornBodies(connection);
                        Recover(connection);
                        LoadEventIds(connection);
                        _recovered = true;
                    }
                    _insert = new InboxStore.InsertStatement(connection);
                    _connection = connection;
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }
            }
            if (_log is null)
            {
                // Every open starts a new segment: a torn tail is never appended to.
                var log = new InboxLog(_options.DataDirectory);
                log.Open();
                Volatile.Write(ref _log, log);
            }
            _databaseOpen = true;
            _healthy = true;
            LogOpened(_logger, _options.DataDirectory, _eventIds.Count);
            return _connection;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            _healthy = false;
            LogOpenFailed(_logger, _options.DataDirectory, ex.Message);
            CloseDatabase();
            return null;
        }
    }

    private void CloseDatabase()
    {
        _databaseOpen = false;
        _healthy = false;
        _insert?.Dispose();
        _insert = null;
        _connection?.Dispose();
        _connection = null;
        _wal?.Dispose();
        _wal = null;
    }

    /// <summary>
    /// Rows whose log records come after the saved log position: commits the database lost in a power
    /// loss (they were not synced) while the log, synced before every answer, kept the deliveries.
    /// </summary>
    private void Recover(SqliteConnection connection)
    {
        var position = SyncState.ReadInboxLogPosition(connection);
        var lastSeq = InboxStore.LastSeq(connection);
        // No position saved: every row was written by a version that inserted rows before it answered.
        var recovered = position is { } from ? InboxLog.Recover(_options.DataDirectory, from.Segment, from.Offset, lastSeq) : [];
        if (recovered.Count > 0)
        {
            using var insert = new InboxStore.InsertStatement(connection);
            InsertRows(connection, insert, recovered);
            lastSeq = Math.Max(lastSeq, recovered[^1].Seq);
            LogRecovered(_logger, recovered.Count);
        }
        _lastSeq = lastSeq;
    }

    /// <summary>
    /// A receiver of an earlier version inserted rows before their bodies were synced: a crash could
    /// leave rows whose bodies never reached the disk (never answered 200, so Greenhouse retries them);
    /// deleting them makes the retry a new delivery instead of a "duplicate" of nothing. Only the two
    /// newest segments can hold such bodies.
    /// </summary>
    private void DeleteRowsWithTornBodies(SqliteConnection connection)
    {
        var newest = InboxLog.ListSegments(Path.Combine(_options.DataDirectory, InboxLog.DirectoryName)).DefaultIfEmpty(0).Max();
        var torn = new List<long>();
        using (var reader = new InboxLogReader(_options.DataDirectory))
        {
            foreach (var (seq, segment, offset, length) in InboxStore.PendingInSegments(connection, newest))
            {
                if (reader.Read(segment, offset, length, seq) is null)
                {
                    torn.Add(seq);
                }
            }
        }
        if (torn.Count == 0)
        {
            return;
        }
        InboxStore.Delete(connection, torn);
        LogTornBodies(_logger, torn.Count);
    }

    private void LoadEventIds(SqliteConnection connection)
    {
        lock (_idsLock)
        {
            _eventIds.Clear();
            foreach (var id in InboxStore.EventIds(connection))
            {
                _eventIds.Add(HashId(id));
            }
        }
    }

    private sealed class PendingWrite(string eventId, string action, ReadOnlyMemory<byte> body, bool answerOnSyncThread)
    {
        public string EventId { get; } = eventId;

        public string Action { get; } = action;

        public ReadOnlyMemory<byte> Body { get; } = body;

        // Hashed by the request's thread, not the writer's.
        public UInt128 IdHash { get; } = HashId(eventId);

        public TaskCompletionSource<InboxWriteResult> Completion { get; } =
            new(answerOnSyncThread ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record CommittedBatch(List<PendingWrite> Writes, InboxWriteResult[] Results, List<LogRecord> Entries, InboxLog Log);

    private sealed record WriteJob(Action<SqliteConnection> Work)
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rebuilt {Count} inbox rows from the inbox log: the database had lost its newest commits (a power loss before they reached the disk); no delivery was lost")]
    private static partial void LogRecovered(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inserting {Count} inbox rows failed (SQLite error {Code}); they stay queued and are inserted once the database can be written")]
    private static partial void LogIndexFailed(ILogger logger, Exception exception, int count, int code);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox database opened in {DataDirectory} ({EventIds} stored event ids)")]
    private static partial void LogOpened(ILogger logger, string dataDirectory, int eventIds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleted {Count} inbox rows whose bodies did not reach the disk before a crash; they were never acknowledged and Greenhouse redelivers them")]
    private static partial void LogTornBodies(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inbox database in {DataDirectory} cannot be opened: {Reason}; deliveries are answered 503 until it can")]
    private static partial void LogOpenFailed(ILogger logger, string dataDirectory, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inbox fsync of the log in {DataDirectory} failed: {Reason}; the deliveries waiting for it are answered 503 so Greenhouse retries")]
    private static partial void LogSyncFailed(ILogger logger, string dataDirectory, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inbox write of {Count} deliveries failed (SQLite error {Code}); answered 503 so Greenhouse retries")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count, int code);
}
