using System.Globalization;
using Greenhouse.Receiver.Configuration;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The durable hydration queue (table <c>hydration_queue</c>). A candidate has at most one
/// row: events arriving while it waits push its due time back by the debounce, never beyond the
/// first request plus the maximum delay, so a burst costs one fetch. Requests are written in the
/// transaction of the change that needs them (<see cref="MirrorStore"/>, <see cref="WritebackOutbox"/>);
/// the hydration worker reads due rows here and postpones failed ones.
/// </summary>
public sealed class HydrationQueueStore : IDisposable
{
    private readonly ReceiverOptions _options;
    private readonly WebhookInbox _writer;
    private readonly Lock _gate = new();
    private SqliteConnection? _db;

    public HydrationQueueStore(ReceiverOptions options, WebhookInbox writer)
    {
        _options = options;
        _writer = writer;
    }

    /// <summary>Raised after a commit that queued candidates for hydration.</summary>
    public event Action? Requested;

    internal void NotifyRequested() => Requested?.Invoke();

    /// <summary>Due requests, oldest due first.</summary>
    public List<HydrationRequest> Due(DateTimeOffset now, int limit)
    {
        lock (_gate)
        {
            return Due(Db(), now, limit);
        }
    }

    public DateTimeOffset? NextDue()
    {
        lock (_gate)
        {
            return NextDue(Db());
        }
    }

    public long Count()
    {
        lock (_gate)
        {
            return Count(Db());
        }
    }

    /// <summary>Pushes failed requests back with exponential backoff (from their attempts so far).</summary>
    public Task PostponeAsync(IReadOnlyCollection<HydrationRequest> failed, DateTimeOffset now, string error) =>
        _writer.WriteAsync(db => Postpone(db, failed, now, _options.RetryBaseDelay, _options.RetryMaxDelay, error));

    public void Dispose()
    {
        lock (_gate)
        {
            _db?.Dispose();
            _db = null;
        }
    }

    private SqliteConnection Db() => _db ??= ReceiverDatabase.Open(_options.DataDirectory, _options.CommitTimeout);

    internal static void Request(SqliteConnection db, SqliteTransaction tx, long candidateId, DateTimeOffset now, HarvestSyncOptions options)
    {
        using var command = db.CreateCommand();
        command.Transaction = tx;
        // A row in backoff (attempts > 0) keeps its due time: new events do not hammer a failing Harvest.
        command.CommandText = """
            INSERT INTO hydration_queue(candidate_id, requested_at, due_at, attempts, version) VALUES ($id, $now, $due, 0, 1)
            ON CONFLICT(candidate_id) DO UPDATE SET
                due_at = CASE WHEN attempts > 0 THEN due_at ELSE MIN(excluded.due_at, requested_at + $max) END,
                version = version + 1
            """;
        command.Parameters.AddWithValue("$id", candidateId);
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$due", (now + options.HydrationDebounce).ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$max", (long)options.HydrationMaxDelay.TotalMilliseconds);
        command.ExecuteNonQuery();
    }

    internal static void Cancel(SqliteConnection db, SqliteTransaction tx, long candidateId)
    {
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "DELETE FROM hydration_queue WHERE candidate_id = $id";
        command.Parameters.AddWithValue("$id", candidateId);
        command.ExecuteNonQuery();
    }

    /// <summary>Removes a request that was served, unless a newer event re-requested it meanwhile.</summary>
    internal static void Complete(SqliteConnection db, SqliteTransaction tx, IEnumerable<HydrationRequest> served)
    {
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "DELETE FROM hydration_queue WHERE candidate_id = $id AND version = $version";
        var id = command.Parameters.Add("$id", SqliteType.Integer);
        var version = command.Parameters.Add("$version", SqliteType.Integer);
        foreach (var request in served)
        {
            id.Value = request.CandidateId;
            version.Value = request.Version;
            command.ExecuteNonQuery();
        }
        // A re-requested row that was in backoff is due again now that Harvest answers.
        command.CommandText = "UPDATE hydration_queue SET attempts = 0, last_error = NULL WHERE candidate_id = $id";
        command.Parameters.Remove(version);
        foreach (var request in served)
        {
            id.Value = request.CandidateId;
            command.ExecuteNonQuery();
        }
    }

    private static void Postpone(SqliteConnection db, IEnumerable<HydrationRequest> failed, DateTimeOffset now, TimeSpan baseDelay, TimeSpan maxDelay, string error)
    {
        using var tx = db.BeginTransaction();
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "UPDATE hydration_queue SET attempts = attempts + 1, due_at = $due, last_error = $error WHERE candidate_id = $id";
        var id = command.Parameters.Add("$id", SqliteType.Integer);
        var due = command.Parameters.Add("$due", SqliteType.Integer);
        command.Parameters.AddWithValue("$error", error);
        foreach (var request in failed)
        {
            var exponent = Math.Min(request.Attempts, 30);
            var delay = TimeSpan.FromTicks(Math.Min(maxDelay.Ticks, baseDelay.Ticks * (1L << exponent)));
            id.Value = request.CandidateId;
            due.Value = (now + delay).ToUnixTimeMilliseconds();
            command.ExecuteNonQuery();
        }
        tx.Commit();
    }

    private static List<HydrationRequest> Due(SqliteConnection db, DateTimeOffset now, int limit)
    {
        using var command = db.CreateCommand();
        command.CommandText = "SELECT candidate_id, version, attempts FROM hydration_queue WHERE due_at <= $now ORDER BY due_at LIMIT $limit";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var rows = new List<HydrationRequest>();
        while (reader.Read())
        {
            rows.Add(new HydrationRequest(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2)));
        }
        return rows;
    }

    private static DateTimeOffset? NextDue(SqliteConnection db)
    {
        using var command = db.CreateCommand();
        command.CommandText = "SELECT MIN(due_at) FROM hydration_queue";
        var value = command.ExecuteScalar();
        return value is null or DBNull ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(value, CultureInfo.InvariantCulture));
    }

    private static long Count(SqliteConnection db)
    {
        using var command = db.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM hydration_queue";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
