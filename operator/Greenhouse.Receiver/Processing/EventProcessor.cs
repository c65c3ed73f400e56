using System.Globalization;
using System.Text.Json;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Webhooks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Processing;

/// <summary>
/// Applies stored events to the candidate mirror in the background. Events of one candidate are
/// applied in arrival order: while an earlier event of a candidate waits for a retry, its later
/// events wait too. Each event's mirror changes, change-log entries and "processed" mark are one
/// transaction, so a crash never applies an event twice or half.
/// </summary>
public sealed partial class EventProcessor : BackgroundService
{
    private const int BatchSize = 1000;
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMinutes(1);

    private readonly ReceiverOptions _options;
    private readonly CandidateMirror _mirror;
    private readonly ReceiverMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<EventProcessor> _logger;
    private readonly ICandidateHydrator? _hydrator;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private SqliteConnection? _db;
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    public EventProcessor(ReceiverOptions options, CandidateMirror mirror, WebhookInbox inbox, ReceiverMetrics metrics,
        TimeProvider time, ILogger<EventProcessor> logger, IEnumerable<ICandidateHydrator> hydrators)
    {
        ArgumentNullException.ThrowIfNull(inbox);
        ArgumentNullException.ThrowIfNull(hydrators);
        _options = options;
        _mirror = mirror;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _hydrator = hydrators.SingleOrDefault();
        inbox.Committed += Wake;
    }

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
            db = ReceiverDatabase.Open(_options.DataDirectory, durable: false, _options.CommitTimeout);
            using (var candidates = db.CreateCommand())
            {
                candidates.CommandText = "SELECT data FROM candidates";
                using var reader = candidates.ExecuteReader();
                while (reader.Read())
                {
                    _mirror.Put(JsonSerializer.Deserialize<CandidateRecord>(reader.GetString(0))!);
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
            _metrics.Candidates.Set(_mirror.Count);
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
    public async Task<int> ProcessDueAsync(CancellationToken cancellationToken)
    {
        if (!TryLoad())
        {
            return 0;
        }
        var now = _time.GetUtcNow();
        var handled = 0;
        var blocked = new HashSet<long>();
        foreach (var row in ReadPending())
        {
            cancellationToken.ThrowIfCancellationRequested();
            long? candidateId = null;
            try
            {
                using var document = JsonDocument.Parse(row.Body);
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
                var changes = WebhookEventInterpreter.Interpret(row.Action, document.RootElement, _mirror.Get, now);
                if (_hydrator is not null && candidateId is { } hydrate && changes.All(c => c.Kind == CandidateChangeKind.Upserted))
                {
                    await _hydrator.HydrateAsync(hydrate, cancellationToken).ConfigureAwait(false);
                }
                Apply(row, changes, now);
                _metrics.RecordProcessed(row.Action, changes.Count > 0 ? "applied" : "recorded", now);
            }
            catch (Exception ex) when (ex is PoisonEventException or JsonException)
            {
                DeadLetter(row, ex.Message, now);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var attempts = row.Attempts + 1;
                if (attempts >= _options.MaxAttempts)
                {
                    DeadLetter(row, $"gave up after {attempts} attempts: {ex.GetType().Name}: {ex.Message}", now);
                }
                else
                {
                    ScheduleRetry(row, attempts, ex, now);
                    if (candidateId is { } failed)
                    {
                        blocked.Add(failed);
                    }
                }
            }
            handled++;
        }
        if (now - _lastPrune >= PruneEvery)
        {
            Prune(now);
        }
        return handled;
    }

    /// <summary>Deletes processed events and change-log entries older than the retention window.</summary>
    public int Prune(DateTimeOffset now)
    {
        if (_db is null)
        {
            return 0;
        }
        _lastPrune = now;
        var cut = (now - _options.Retention).ToUnixTimeMilliseconds();
        using var command = _db.CreateCommand();
        command.CommandText = "DELETE FROM inbox WHERE state = 1 AND processed_at < $cut; DELETE FROM changes WHERE changed_at < $cut;";
        command.Parameters.AddWithValue("$cut", cut);
        var removed = command.ExecuteNonQuery();
        if (removed > 0)
        {
            LogPruned(_logger, removed);
        }
        return removed;
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
                var handled = await ProcessDueAsync(stoppingToken).ConfigureAwait(false);
                if (handled > 0)
                {
                    continue;
                }
                var now = _time.GetUtcNow();
                wait = !IsLoaded ? TimeSpan.FromSeconds(1)
                    : NextRetryAt() is { } due && due - now < IdlePoll ? due - now : IdlePoll;
            }
            catch (SqliteException ex)
            {
                LogPassFailed(_logger, ex, ex.SqliteErrorCode);
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
        _db?.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    private List<PendingEvent> ReadPending()
    {
        using var command = _db!.CreateCommand();
        command.CommandText = "SELECT seq, event_id, action, body, attempts, next_attempt_at FROM inbox WHERE state = 0 ORDER BY seq LIMIT $limit";
        command.Parameters.AddWithValue("$limit", BatchSize);
        using var reader = command.ExecuteReader();
        var rows = new List<PendingEvent>();
        while (reader.Read())
        {
            rows.Add(new PendingEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), (byte[])reader.GetValue(3),
                reader.GetInt32(4), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }
        return rows;
    }

    private void Apply(PendingEvent row, IReadOnlyList<MirrorChange> changes, DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var committed = new List<MirrorChange>(changes.Count);
        long lastNumber = 0;
        using (var tx = _db!.BeginTransaction())
        {
            foreach (var change in changes)
            {
                using var log = _db.CreateCommand();
                log.Transaction = tx;
                log.CommandText = "INSERT INTO changes(candidate_id, kind, merged_into, changed_at) VALUES ($id, $kind, $into, $at) RETURNING change_number";
                log.Parameters.AddWithValue("$id", change.CandidateId);
                log.Parameters.AddWithValue("$kind", (int)change.Kind);
                log.Parameters.AddWithValue("$into", (object?)change.MergedInto ?? DBNull.Value);
                log.Parameters.AddWithValue("$at", nowMs);
                lastNumber = Convert.ToInt64(log.ExecuteScalar(), CultureInfo.InvariantCulture);

                using var write = _db.CreateCommand();
                write.Transaction = tx;
                write.Parameters.AddWithValue("$id", change.CandidateId);
                write.Parameters.AddWithValue("$n", lastNumber);
                var candidate = change.Candidate is null ? null : change.Candidate with { ChangeNumber = lastNumber };
                switch (change.Kind)
                {
                    case CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized:
                        var json = JsonSerializer.Serialize(candidate);
                        write.CommandText = """
                            INSERT INTO candidates(id, data) VALUES ($id, $data) ON CONFLICT(id) DO UPDATE SET data = excluded.data;
                            UPDATE changes SET data = $data WHERE change_number = $n;
                            DELETE FROM merged_candidates WHERE loser_id = $id;
                            """;
                        write.Parameters.AddWithValue("$data", json);
                        break;
                    case CandidateChangeKind.Deleted:
                        write.CommandText = "DELETE FROM candidates WHERE id = $id";
                        break;
                    case CandidateChangeKind.Merged:
                        write.CommandText = """
                            DELETE FROM candidates WHERE id = $id;
                            INSERT INTO merged_candidates(loser_id, survivor_id, merged_at) VALUES ($id, $into, $at)
                                ON CONFLICT(loser_id) DO UPDATE SET survivor_id = excluded.survivor_id, merged_at = excluded.merged_at;
                            """;
                        write.Parameters.AddWithValue("$into", change.MergedInto!.Value);
                        write.Parameters.AddWithValue("$at", nowMs);
                        break;
                }
                write.ExecuteNonQuery();
                committed.Add(change with { Candidate = candidate });
            }
            using var done = _db.CreateCommand();
            done.Transaction = tx;
            done.CommandText = "UPDATE inbox SET state = 1, processed_at = $at, attempts = attempts + 1, last_error = NULL WHERE seq = $seq";
            done.Parameters.AddWithValue("$at", nowMs);
            done.Parameters.AddWithValue("$seq", row.Seq);
            done.ExecuteNonQuery();
            tx.Commit();
        }

        // Only after the commit: readers never see a change that a crash could take back.
        foreach (var change in committed)
        {
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
        if (lastNumber > 0)
        {
            _mirror.Published(lastNumber);
            _metrics.Candidates.Set(_mirror.Count);
        }
    }

    private void ScheduleRetry(PendingEvent row, int attempts, Exception error, DateTimeOffset now)
    {
        var exponent = Math.Min(attempts - 1, 30);
        var delay = TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryBaseDelay.Ticks * (1L << exponent)));
        using var command = _db!.CreateCommand();
        command.CommandText = "UPDATE inbox SET attempts = $attempts, next_attempt_at = $next, last_error = $error WHERE seq = $seq";
        command.Parameters.AddWithValue("$attempts", attempts);
        command.Parameters.AddWithValue("$next", (now + delay).ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$error", $"{error.GetType().Name}: {error.Message}");
        command.Parameters.AddWithValue("$seq", row.Seq);
        command.ExecuteNonQuery();
        _metrics.RecordProcessed(row.Action, "retried", now);
        LogRetry(_logger, row.EventId, row.Action, attempts, delay, error.GetType().Name);
    }

    private void DeadLetter(PendingEvent row, string reason, DateTimeOffset now)
    {
        using (var tx = _db!.BeginTransaction())
        {
            using var command = _db.CreateCommand();
            command.Transaction = tx;
            command.CommandText = """
                INSERT OR REPLACE INTO dead_letters(seq, event_id, action, body, received_at, failed_at, attempts, reason)
                    SELECT seq, event_id, action, body, received_at, $at, attempts + 1, $reason FROM inbox WHERE seq = $seq;
                UPDATE inbox SET state = 2, attempts = attempts + 1, last_error = $reason WHERE seq = $seq;
                """;
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$reason", reason);
            command.Parameters.AddWithValue("$seq", row.Seq);
            command.ExecuteNonQuery();
            tx.Commit();
        }
        _metrics.RecordProcessed(row.Action, "dead_lettered", now);
        LogDeadLettered(_logger, row.EventId, row.Action, reason);
    }

    private sealed record PendingEvent(long Seq, string EventId, string Action, byte[] Body, int Attempts, DateTimeOffset NextAttemptAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Candidate mirror loaded: {Candidates} candidates, change log at {ChangeNumber}")]
    private static partial void LogLoaded(ILogger logger, int candidates, long changeNumber);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot open the database in {DataDirectory} to load the mirror: {Reason}; retrying")]
    private static partial void LogLoadFailed(ILogger logger, string dataDirectory, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} ({Action}) failed attempt {Attempt} with {Error}; retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string eventId, string action, int attempt, TimeSpan delay, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {EventId} ({Action}) moved to the dead letters: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string eventId, string action, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Rows} processed events and change-log entries past retention")]
    private static partial void LogPruned(ILogger logger, int rows);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing pass failed (SQLite error {Code}); retrying")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, int code);
}
