using Greenhouse.Receiver.Configuration;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The write-back outbox (<c>writeback_outbox</c>): a row is stored before a write is sent to
/// Harvest and completed with the result after, so a retry of the same client request id,
/// even after a crash, finds it and does not post twice. A completed write queues its candidate
/// for hydration in the same transaction, so the mirror sees the write.
/// </summary>
public sealed class WritebackOutbox
{
    private readonly ReceiverOptions _options;
    private readonly WebhookInbox _inbox;
    private readonly HydrationQueueStore _hydration;
    private readonly TimeProvider _time;

    public WritebackOutbox(ReceiverOptions options, WebhookInbox inbox, HydrationQueueStore hydration, TimeProvider time)
    {
        _options = options;
        _inbox = inbox;
        _hydration = hydration;
        _time = time;
    }

    /// <summary>Records a new request, or returns the entry already recorded under its id.</summary>
    internal async Task<OutboxEntry?> BeginAsync(string requestId, string operation, string requestHash, long candidateId)
    {
        OutboxEntry? existing = null;
        var now = _time.GetUtcNow();
        await _inbox.WriteAsync(db =>
        {
            using var tx = db.BeginTransaction();
            existing = Read(db, tx, requestId);
            if (existing is null)
            {
                using var insert = db.CreateCommand();
                insert.Transaction = tx;
                insert.CommandText = """
                    INSERT INTO writeback_outbox(request_id, operation, request_hash, state, created_at, candidate_id)
                    VALUES ($id, $operation, $hash, 0, $at, $candidate)
                    """;
                insert.Parameters.AddWithValue("$id", requestId);
                insert.Parameters.AddWithValue("$operation", operation);
                insert.Parameters.AddWithValue("$hash", requestHash);
                insert.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
                insert.Parameters.AddWithValue("$candidate", candidateId);
                insert.ExecuteNonQuery();
            }
            tx.Commit();
        }).ConfigureAwait(false);
        return existing;
    }

    /// <summary>Stores the result and queues the candidate for hydration, so the mirror sees the write.</summary>
    internal async Task CompleteAsync(string requestId, long greenhouseId, long candidateId)
    {
        var now = _time.GetUtcNow();
        await _inbox.WriteAsync(db =>
        {
            using var tx = db.BeginTransaction();
            using var update = db.CreateCommand();
            update.Transaction = tx;
            update.CommandText = "UPDATE writeback_outbox SET state = 1, completed_at = $at, greenhouse_id = $gh, candidate_id = $candidate WHERE request_id = $id";
            update.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            update.Parameters.AddWithValue("$gh", greenhouseId);
            update.Parameters.AddWithValue("$candidate", candidateId);
            update.Parameters.AddWithValue("$id", requestId);
            update.ExecuteNonQuery();
            if (_options.Harvest is { } harvest)
            {
                HydrationQueueStore.Request(db, tx, candidateId, now, harvest);
            }
            tx.Commit();
        }).ConfigureAwait(false);
        _hydration.NotifyRequested();
    }

    /// <summary>Forgets a request Harvest refused outright (nothing was written), so the id can be used again once fixed.</summary>
    internal Task ForgetAsync(string requestId) => _inbox.WriteAsync(db =>
    {
        using var delete = db.CreateCommand();
        delete.CommandText = "DELETE FROM writeback_outbox WHERE request_id = $id AND state = 0";
        delete.Parameters.AddWithValue("$id", requestId);
        delete.ExecuteNonQuery();
    });

    private static OutboxEntry? Read(SqliteConnection db, SqliteTransaction tx, string requestId)
    {
        using var select = db.CreateCommand();
        select.Transaction = tx;
        select.CommandText = "SELECT operation, request_hash, state, created_at, COALESCE(greenhouse_id, 0), COALESCE(candidate_id, 0) FROM writeback_outbox WHERE request_id = $id";
        select.Parameters.AddWithValue("$id", requestId);
        using var reader = select.ExecuteReader();
        return reader.Read()
            ? new OutboxEntry(requestId, reader.GetString(0), reader.GetString(1), reader.GetInt32(2) == 1, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), reader.GetInt64(4), reader.GetInt64(5))
            : null;
    }

    /// <summary>Write-back ids completed before <paramref name="cut"/> are not expected to be retried any more.</summary>
    internal static void Prune(SqliteConnection db, SqliteTransaction tx, long cut)
    {
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "DELETE FROM writeback_outbox WHERE state = 1 AND completed_at < $cut";
        command.Parameters.AddWithValue("$cut", cut);
        command.ExecuteNonQuery();
    }
}
