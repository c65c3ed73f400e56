using Greenhouse.Receiver.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Keeps the database small and the WAL in check, driven by the processing loop after each pass
/// (<see cref="AfterPassAsync"/>): hourly pruning past retention, processed log segments retired every
/// second (kept for reuse when all their records were erased), passive checkpoints with an early
/// sync of the database file, a restarting checkpoint once a burst is done, and the scrub of the WAL
/// after personal data was removed. Everything that must not race with commits runs on the writer.
/// </summary>
public sealed partial class DatabaseMaintenance : IDisposable
{
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(200);
    // Processed segments of the inbox log are retired this often while events are processed (pruning
    // does it hourly too): a segment whose records were all erased is reused for the next one, so
    // the log does not write 64 MiB of zeros to prepare every new segment.
    private static readonly TimeSpan RetireSegmentsEvery = TimeSpan.FromSeconds(1);
    // WAL frames (pages) written since the WAL last started again, past which an idle moment restarts it (16 MiB of 4 KiB pages).
    private const long IdleRestartWalFrames = 4096;
    // After a delete, merge or anonymisation the WAL still holds the old pages: it is checkpointed
    // and truncated when no delivery waits, and at the latest this long after (a short stall of ingest).
    private static readonly TimeSpan ScrubWalWithin = TimeSpan.FromSeconds(60);

    private readonly ReceiverOptions _options;
    private readonly WebhookInbox _inbox;
    private readonly TimeProvider _time;
    private readonly ILogger<DatabaseMaintenance> _logger;
    private SqliteConnection? _db;
    // Set when a commit removed personal data; the WAL copies of the old pages go at the next truncating checkpoint.
    private DateTimeOffset? _scrubWalSince;
    private FileStream? _databaseFile;
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;
    private DateTimeOffset _lastCheckpoint = DateTimeOffset.MinValue;
    private DateTimeOffset _lastRetire = DateTimeOffset.MinValue;
    // Frames in the WAL as the last passive checkpoint found it (the file keeps its size when the WAL restarts).
    private long _walFrames;

    public DatabaseMaintenance(ReceiverOptions options, WebhookInbox inbox, TimeProvider time, ILogger<DatabaseMaintenance> logger)
    {
        _options = options;
        _inbox = inbox;
        _time = time;
        _logger = logger;
    }

    /// <summary>True while the WAL may still hold pages with removed personal data.</summary>
    public bool ScrubPending => _scrubWalSince is not null;

    /// <summary>A commit removed personal data (see <see cref="CandidateRedaction"/>): the WAL is scrubbed soon.</summary>
    internal void PersonalDataRemoved() => _scrubWalSince ??= _time.GetUtcNow();

    /// <summary>The maintenance due after a processing pass that handled <paramref name="handled"/> of at most <paramref name="limit"/> events.</summary>
    public async Task AfterPassAsync(int handled, int limit, DateTimeOffset now)
    {
        if (now - _lastPrune >= PruneEvery)
        {
            await PruneAsync(now).ConfigureAwait(false);
        }
        if (handled > 0 && now - _lastRetire >= RetireSegmentsEvery)
        {
            _lastRetire = now;
            await _inbox.WriteAsync(db => _inbox.DeleteUnusedLogSegments(db)).ConfigureAwait(false);
        }
        if (handled > 0 && now - _lastCheckpoint >= CheckpointEvery)
        {
            _lastCheckpoint = now;
            // Passive: copies what it can without ever blocking the inbox writer; on a thread of
            // its own, not one of the pool's few workers that serve requests. While commits keep
            // coming it never reaches the end of the WAL, so SQLite never syncs the database file
            // after it: syncing it here keeps the writer's own checkpoint (WAL past 64 MiB) from
            // having to flush every page copied since, with all deliveries waiting behind it.
            var db = _db ??= ReceiverDatabase.Open(_options.DataDirectory, _options.CommitTimeout);
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
            var (forgotten, processed, dead) = InboxStore.Prune(db, tx, cut, deadCut);
            events = processed;
            deadLetters = dead;
            changes = ChangeLog.Prune(db, tx, cut);
            WritebackOutbox.Prune(db, tx, cut);
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

    public void Dispose()
    {
        _db?.Dispose();
        _databaseFile?.Dispose();
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Events} processed events, {Changes} change-log entries and {DeadLetters} dead letters past retention")]
    private static partial void LogPruned(ILogger logger, int events, int changes, int deadLetters);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not truncate the WAL after removing personal data ({Reason}); retrying")]
    private static partial void LogScrubDeferred(ILogger logger, string reason);
}
