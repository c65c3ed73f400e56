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
/// Durable inbox of verified deliveries, and the single writer of the receiver database: its
/// thread runs the group commits of deliveries and, between them, the transactions of the stores
/// (<see cref="MirrorStore"/>, <see cref="HydrationQueueStore"/>, <see cref="WritebackOutbox"/>,
/// <see cref="DatabaseMaintenance"/>), which call <see cref="WriteAsync"/> with their own SQL.
/// Concurrent requests are written in a shared transaction (group commit): one commit covers every
/// delivery that arrived while the previous one was running, and each request learns its own
/// outcome only after an fsync that made that commit durable. Every other write runs on the same writer,
/// so ingest never waits on a database lock held by another connection.
/// The writer is a dedicated thread woken by an event: its blocking SQLite calls never occupy a
/// thread-pool thread, and a new batch does not queue behind request work to get started.
/// Durability is pipelined: the writer commits without waiting for the disk, and a second
/// dedicated thread fsyncs the WAL file and only then answers the deliveries of every batch
/// committed before that fsync started. While one batch's fsync runs, the next batch is already
/// being written. The WAL is append-only between checkpoints, and SQLite syncs the database file
/// before it reuses the WAL, so an fsync of the WAL makes every commit written before it durable.
/// </summary>
public sealed partial class WebhookInbox : IHostedService, IDisposable
{
    private const int MaxBatch = 512;
    private const int WalCheckpointPages = 16384;

    private readonly ReceiverOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookInbox> _logger;
    private readonly ConcurrentQueue<object> _queue = new();
    // No spinning before a wait blocks (spinCount 0) on any of the inbox's threads: on a pod with one or
    // two cores a spinning waiter takes the core from the request threads that would give it work.
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private readonly ConcurrentQueue<CommittedBatch> _committed = new();
    private readonly ManualResetEventSlim _syncSignal = new(false, spinCount: 0);
    private Thread? _writer;
    private Thread? _syncer;
    // The log's segment is synced on a thread of its own while the syncer syncs the WAL: a cycle
    // waits for the slower of the two, not for both one after the other.
    private Thread? _logSyncer;
    private readonly ManualResetEventSlim _logSyncStart = new(false, spinCount: 0);
    private readonly ManualResetEventSlim _logSyncDone = new(false, spinCount: 0);
    private InboxLog? _logToSync;
    private Exception? _logSyncError;
    private volatile bool _logSyncerStopping;
    private volatile bool _stopping;
    private volatile bool _writerDone;
    // Bumped whenever the writer opens a connection, so the syncer reopens the WAL file it fsyncs.
    private int _connectionGeneration;
    private FileStream? _wal;
    private int _walGeneration = -1;
    private SqliteConnection? _connection;
    private InboxStore.InsertStatement? _insert;
    private volatile InboxLog? _log;
    // Hashes (XXH128) of the event ids of every inbox row: the duplicate check, touched only by the writer.
    private readonly EventIdSet _eventIds = new();
    private readonly HashSet<UInt128> _batchIds = [];
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

    /// <summary>Raised (on the writer) after a commit that stored at least one new event.</summary>
    public event Action? Committed;

    /// <summary>Raised (on the writer) after each group commit: its duration (SQLite transaction and the bodies' write) and its deliveries.</summary>
    public event Action<TimeSpan, int>? GroupCommitted;

    /// <summary>Raised (on the fsync thread) after each durability cycle: how long the WAL and log syncs took, and the deliveries it answered.</summary>
    public event Action<TimeSpan, int>? Synced;

    /// <summary>False while the database cannot be opened or the last commit failed.</summary>
    public bool IsHealthy => _healthy;

    /// <summary>Deliveries queued or being committed: the processor backs off while there are any.</summary>
    public int DeliveriesInFlight => Volatile.Read(ref _deliveriesInFlight);

    /// <summary>Opens the database now (so /readyz is true from the start when storage works) and starts the writer.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        TryOpen();
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "webhook-inbox-writer" };
        _syncer = new Thread(SyncLoop) { IsBackground = true, Name = "webhook-inbox-fsync" };
        _logSyncer = new Thread(LogSyncLoop) { IsBackground = true, Name = "webhook-inbox-log-fsync" };
        _writer.Start();
        _syncer.Start();
        _logSyncer.Start();
        return Task.CompletedTask;
    }

    /// <summary>Finishes the batch in progress; anything queued after that is answered 503 (Greenhouse retries).</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        StopThreads();
        while (_queue.TryDequeue(out var left))
        {
            if (left is PendingWrite write)
            {
                Complete(write, InboxWriteResult.Unavailable);
            }
            (left as WriteJob)?.Completion.TrySetCanceled(CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the writer's connection between group commits; the work
    /// manages its own transaction. Its commit is not fsynced on its own (the next delivery's commit
    /// flushes it, WAL order keeps it consistent): use it only for writes that can be re-derived
    /// from the inbox after a power loss. Fails when the database cannot be opened. Only the stores
    /// of this namespace call it, each with its own SQL (an architecture test keeps SQLite types out
    /// of every other namespace).
    /// </summary>
    internal Task WriteAsync(Action<SqliteConnection> work)
    {
        if (_stopping)
        {
            return Task.FromException(new InvalidOperationException("the inbox writer has stopped"));
        }
        var job = new WriteJob(work);
        _queue.Enqueue(job);
        _signal.Set();
        return job.Completion.Task;
    }

    /// <summary>Stores one delivery; completes after the commit that made it durable (or failed).</summary>
    public Task<InboxWriteResult> StoreAsync(string eventId, string action, byte[] body, CancellationToken cancellationToken)
    {
        if (_stopping)
        {
            return Task.FromResult(InboxWriteResult.Unavailable);
        }
        var write = new PendingWrite(eventId, action, body);
        Interlocked.Increment(ref _deliveriesInFlight);
        _queue.Enqueue(write);
        _signal.Set();
        // A caller that gives up still leaves the write in the batch; only its wait ends.
        return write.Completion.Task.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        // The writer may be inside a commit; let it finish before the connection goes away.
        StopThreads();
        _insert?.Dispose();
        _connection?.Dispose();
        _log?.Dispose();
        _wal?.Dispose();
        _signal.Dispose();
        _syncSignal.Dispose();
        _logSyncStart.Dispose();
        _logSyncDone.Dispose();
    }

    /// <summary>The writer finishes its batch, then the syncer makes every committed batch durable and answers it.</summary>
    private void StopThreads()
    {
        _stopping = true;
        _signal.Set();
        _writer?.Join(TimeSpan.FromSeconds(10));
        _writerDone = true;
        _syncSignal.Set();
        _syncer?.Join(TimeSpan.FromSeconds(10));
        if (!_logSyncerStopping)
        {
            // Once: StopAsync and Dispose both stop the threads, and the semaphore is gone after Dispose.
            _logSyncerStopping = true;
            _logSyncStart.Set();
        }
        _logSyncer?.Join(TimeSpan.FromSeconds(10));
    }

    private void LogSyncLoop()
    {
        while (true)
        {
            _logSyncStart.Wait();
            _logSyncStart.Reset();
            if (_logSyncerStopping)
            {
                return;
            }
            try
            {
                _logToSync?.Sync();
            }
            catch (Exception ex)
            {
                _logSyncError = ex;
            }
            _logSyncDone.Set();
        }
    }

    private void SyncLoop()
    {
        var batches = new List<CommittedBatch>();
        while (true)
        {
            if (_committed.IsEmpty)
            {
                if (_writerDone)
                {
                    return;
                }
                // The writer enqueues before it sets the event, as for the writer's own queue.
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
            var durable = TrySyncWal();
            var synced = Stopwatch.GetElapsedTime(started);
            var stored = false;
            var answered = 0;
            foreach (var batch in batches)
            {
                answered += batch.Writes.Count;
                for (var i = 0; i < batch.Writes.Count; i++)
                {
                    // Committed but maybe not on disk: 503, and Greenhouse's retry is answered
                    // "duplicate" only after a later fsync that covers this commit too.
                    Complete(batch.Writes[i], durable ? batch.Results[i] : InboxWriteResult.Unavailable);
                }
                stored |= batch.Stored > 0;
            }
            batches.Clear();
            Synced?.Invoke(synced, answered);
            if (durable && stored)
            {
                Committed?.Invoke();
            }
        }
    }

    private bool TrySyncWal()
    {
        try
        {
            var generation = Volatile.Read(ref _connectionGeneration);
            if (_wal is null || _walGeneration != generation)
            {
                _wal?.Dispose();
                _wal = null;
                // Synced with fdatasync, as SQLite itself does.
                _wal = FileSync.OpenForSync(Path.Combine(_options.DataDirectory, ReceiverDatabase.FileName + "-wal"));
                _walGeneration = generation;
            }
            // The bodies and the rows that point at them at the same time, both before any answer
            // (a row that reached the disk without its body was never answered, and start-up drops it).
            var log = _log;
            if (log is null)
            {
                FileSync.DataSync(_wal);
                return true;
            }
            _logToSync = log;
            _logSyncError = null;
            _logSyncDone.Reset();
            _logSyncStart.Set();
            try
            {
                FileSync.DataSync(_wal);
            }
            finally
            {
                _logSyncDone.Wait();
            }
            if (_logSyncError is { } error)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _healthy = false;
            LogSyncFailed(_logger, _options.DataDirectory, ex.Message);
            _wal?.Dispose();
            _wal = null;
            return false;
        }
    }

    private void WriteLoop()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        var jobs = new List<WriteJob>();
        while (true)
        {
            if (_queue.IsEmpty)
            {
                if (_stopping)
                {
                    return;
                }
                // Producers enqueue before they set the event, so nothing is missed between Wait and Reset.
                _signal.Wait();
                _signal.Reset();
            }
            while (batch.Count < MaxBatch && _queue.TryDequeue(out var item))
            {
                if (item is PendingWrite write)
                {
                    batch.Add(write);
                }
                else
                {
                    jobs.Add((WriteJob)item);
                }
            }
            if (batch.Count > 0)
            {
                try
                {
                    Commit(batch);
                }
                catch (Exception ex)
                {
                    // Whatever went wrong, the writer thread must live on: a dead writer would
                    // leave every later delivery waiting for an answer that never comes.
                    Fail(batch, ex);
                }
                batch.Clear();
            }
            foreach (var job in jobs)
            {
                Run(job);
            }
            jobs.Clear();
        }
    }

    private void Run(WriteJob job)
    {
        var connection = TryOpen();
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

    private void Commit(List<PendingWrite> batch)
    {
        var connection = TryOpen();
        var log = _log;
        if (connection is null || log is null)
        {
            Fail(batch, null);
            return;
        }
        var stored = 0;
        var results = new InboxWriteResult[batch.Count];
        var started = Stopwatch.GetTimestamp();
        _batchIds.Clear();
        try
        {
            using var tx = connection.BeginTransaction();
            var insert = _insert!;
            insert.Command.Transaction = tx;
            insert.ReceivedAt.Value = _time.GetUtcNow().ToUnixTimeMilliseconds();
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i];
                if (_eventIds.Contains(write.IdHash) || !_batchIds.Add(write.IdHash))
                {
                    results[i] = InboxWriteResult.Duplicate;
                    continue;
                }
                var (segment, offset) = log.NextPosition();
                insert.EventId.Value = write.EventId;
                insert.Action.Value = write.Action;
                insert.Segment.Value = segment;
                insert.Offset.Value = offset;
                insert.Length.Value = write.Body.Length;
                insert.Command.ExecuteNonQuery();
                // The row's seq without a data reader per insert (only this thread writes on this connection).
                var seq = SQLitePCL.raw.sqlite3_last_insert_rowid(connection.Handle);
                log.Stage(seq, write.Body);
                results[i] = InboxWriteResult.Accepted;
                stored++;
            }
            // One write for every body of the batch, before the rows that point at them commit.
            log.WriteStaged();
            tx.Commit();
            _eventIds.UnionWith(_batchIds);
            _healthy = true;
            _committed.Enqueue(new CommittedBatch([.. batch], results, stored));
            _syncSignal.Set();
            GroupCommitted?.Invoke(Stopwatch.GetElapsedTime(started), batch.Count);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            log.DiscardStaged();
            Fail(batch, ex);
        }
        finally
        {
            _batchIds.Clear();
        }
    }

    /// <summary>Forgets the ids of inbox rows just deleted (pruning); call only from work run by <see cref="WriteAsync"/>.</summary>
    internal void ForgetEventIds(IEnumerable<string> eventIds)
    {
        ArgumentNullException.ThrowIfNull(eventIds);
        foreach (var id in eventIds)
        {
            _eventIds.Remove(HashId(id));
        }
    }

    /// <summary>Deletes log segments no inbox row refers to; call only from work run by <see cref="WriteAsync"/>.</summary>
    internal int DeleteUnusedLogSegments(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (_log is not { } log)
        {
            return 0;
        }
        return log.DeleteSegmentsBelow(InboxStore.LowestBodySegment(connection) ?? log.CurrentSegment);
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
        _healthy = false;
        if (error is not null)
        {
            LogCommitFailed(_logger, error, batch.Count, (error as SqliteException)?.SqliteErrorCode ?? 0);
            // Reopen on the next batch: a connection or log file that hit an I/O error may be unusable.
            CloseStorage();
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

    private SqliteConnection? TryOpen()
    {
        if (_connection is not null)
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
            // No fsync inside COMMIT: the syncer thread fsyncs the WAL before any delivery is answered.
            // The writer's open is the one that migrates the schema (readers never do).
            _connection = ReceiverDatabase.OpenWriter(_options.DataDirectory, _options.CommitTimeout);
            Interlocked.Increment(ref _connectionGeneration);
            // Most checkpointing is left to the processor's passive checkpoints, off this thread; the
            // writer checkpoints only when the WAL passes 64 MiB (a passive checkpoint cannot finish
            // while commits keep coming), so a long burst cannot grow the WAL without bound.
            ReceiverDatabase.Execute(_connection, $"PRAGMA wal_autocheckpoint = {WalCheckpointPages}; PRAGMA journal_size_limit = {WalCheckpointPages * 4096L}");
            DeleteRowsWithTornBodies(_connection);
            var log = new InboxLog(_options.DataDirectory);
            log.Open();
            _log = log;
            LoadEventIds(_connection);
            _insert = new InboxStore.InsertStatement(_connection);
            _healthy = true;
            LogOpened(_logger, _options.DataDirectory, _eventIds.Count);
            return _connection;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            _healthy = false;
            LogOpenFailed(_logger, _options.DataDirectory, ex.Message);
            CloseStorage();
            return null;
        }
    }

    private void CloseStorage()
    {
        _insert?.Dispose();
        _insert = null;
        _connection?.Dispose();
        _connection = null;
        _log?.Dispose();
        _log = null;
        _eventIds.Clear();
    }

    /// <summary>
    /// A crash can leave rows whose bodies never reached the disk: they were never answered 200
    /// (that waits for the fsync of the log), so Greenhouse retries them; deleting them makes the
    /// retry a new delivery instead of a "duplicate" of nothing. Only the two newest segments can
    /// hold such bodies: the fsync thread syncs a segment's tail after the rollover to the next one,
    /// and a second rollover syncs it on the writer if the fsync thread has not yet.
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
        _eventIds.Clear();
        foreach (var id in InboxStore.EventIds(connection))
        {
            _eventIds.Add(HashId(id));
        }
    }

    private sealed record PendingWrite(string EventId, string Action, byte[] Body)
    {
        // Hashed by the request's thread, not the writer's.
        public UInt128 IdHash { get; } = HashId(EventId);

        public TaskCompletionSource<InboxWriteResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record CommittedBatch(List<PendingWrite> Writes, InboxWriteResult[] Results, int Stored);

    private sealed record WriteJob(Action<SqliteConnection> Work)
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox database opened in {DataDirectory} ({EventIds} stored event ids)")]
    private static partial void LogOpened(ILogger logger, string dataDirectory, int eventIds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleted {Count} inbox rows whose bodies did not reach the disk before a crash; they were never acknowledged and Greenhouse redelivers them")]
    private static partial void LogTornBodies(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inbox database in {DataDirectory} cannot be opened: {Reason}; deliveries are answered 503 until it can")]
    private static partial void LogOpenFailed(ILogger logger, string dataDirectory, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inbox fsync of the WAL in {DataDirectory} failed: {Reason}; the deliveries waiting for it are answered 503 so Greenhouse retries")]
    private static partial void LogSyncFailed(ILogger logger, string dataDirectory, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inbox commit of {Count} deliveries failed (SQLite error {Code}); answered 503 so Greenhouse retries")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count, int code);
}
