using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using Greenhouse.Receiver.Configuration;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The tables <c>inbox</c>, <c>inbox_bodies</c> and <c>dead_letters</c>, and the bodies in the inbox
/// log. <see cref="WebhookInbox"/> inserts rows in its group commits (with <see cref="InsertStatement"/>);
/// everything after that (reading pending events, retries, dead letters, pruning) is here. Reads use a
/// connection of the store's own; writes run in a transaction on the database writer.
/// </summary>
public sealed class InboxStore : IDisposable
{
    private readonly ReceiverOptions _options;
    private SqliteConnection? _db;
    private InboxLogReader? _log;
    private InboxLogEraser? _eraser;

    public InboxStore(ReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Opens the read connection and the log; false while the database cannot be read.</summary>
    public bool TryOpen()
    {
        if (_db is not null)
        {
            return true;
        }
        try
        {
            var db = ReceiverDatabase.Open(_options.DataDirectory, _options.CommitTimeout);
            _log = new InboxLogReader(_options.DataDirectory, dropPassedSegments: true);
            _eraser = new InboxLogEraser(_options.DataDirectory);
            _db = db;
            return true;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            _log?.Dispose();
            _eraser?.Dispose();
            return false;
        }
    }

    /// <summary>
    /// The oldest <paramref name="limit"/> pending events. Bodies in the inbox log are not read here
    /// (<see cref="ReadBody"/> reads one when its event is processed): a pass holding a thousand 5 KB
    /// bodies at once kept them alive through every garbage collection of the pass.
    /// </summary>
    public List<PendingEvent> ReadPending(int limit)
    {
        using var command = Db.CreateCommand();
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
            var inLog = !reader.IsDBNull(5);
            var body = inLog || reader.IsDBNull(8) ? null : (byte[])reader.GetValue(8);
            rows.Add(new PendingEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), body,
                reader.GetInt32(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)))
            {
                BodyAt = inLog ? (reader.GetInt64(5), reader.GetInt64(6), reader.GetInt32(7)) : null,
            });
        }
        return rows;
    }

    /// <summary>
    /// The event's body (from the inbox log, or the row's own for events stored before schema 3), or
    /// null when it is missing or damaged. A body from the log is in a pooled buffer: pass the result to
    /// <see cref="ReturnBody"/> once nothing refers to it any more (never keep it).
    /// </summary>
    public ReadOnlyMemory<byte>? RentBody(PendingEvent row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.BodyAt is not { } at)
        {
            return row.Body;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(at.Length);
        var body = buffer.AsMemory(0, at.Length);
        if (_log!.TryRead(at.Segment, at.Offset, body, row.Seq))
        {
            return body;
        }
        ArrayPool<byte>.Shared.Return(buffer);
        return null;
    }

    /// <summary>Gives back a body from <see cref="RentBody"/>.</summary>
    public static void ReturnBody(PendingEvent row, ReadOnlyMemory<byte>? body)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.BodyAt is not null && body is { } rented && MemoryMarshal.TryGetArray(rented, out var segment))
        {
            ArrayPool<byte>.Shared.Return(segment.Array!);
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

    /// <summary>
    /// Zeros the log records (header, body, metadata) of events that were just processed or
    /// dead-lettered, neighbours in one write (committed first: a crash in between leaves a segment no
    /// row points to, deleted when segments are retired). Throws <see cref="IOException"/> when a record
    /// cannot be overwritten; the segment is then deleted, not reused. Returns, per segment, how many
    /// records were erased whole (for <see cref="WebhookInbox.MarkErased"/>).
    /// </summary>
    public Dictionary<long, int> EraseBodies(IEnumerable<PendingEvent> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return _eraser!.Erase(rows.Where(row => row.BodyAt is not null).Select(row => new ErasableRecord(
            row.BodyAt!.Value.Segment, row.BodyAt.Value.Offset, row.BodyAt.Value.Length, row.Seq, InboxLog.MetadataLength(row.EventId, row.Action))));
    }

    public void Dispose()
    {
        _db?.Dispose();
        _log?.Dispose();
        _eraser?.Dispose();
    }

    private SqliteConnection Db => _db ?? throw new InvalidOperationException("The inbox store is not open.");

    /// <summary>
    /// Marks events processed (prepared once per transaction). A processed event keeps only its id
    /// (dedupe): the row stops pointing into the log (its body is erased from the log after the
    /// commit), and a body stored before schema 3 goes.
    /// </summary>
    internal sealed class MarkProcessed : IDisposable
    {
        private readonly PreparedStatement _mark;
        private readonly PreparedStatement _dropBody;

        public MarkProcessed(SqliteConnection db, long nowMs)
        {
            _mark = new PreparedStatement(db, "UPDATE inbox SET state = 1, processed_at = ?1, attempts = attempts + 1, last_error = NULL, body_segment = NULL, body_offset = NULL, body_length = NULL WHERE seq = ?2");
            _mark.Bind(1, nowMs);
            _dropBody = new PreparedStatement(db, "DELETE FROM inbox_bodies WHERE seq = ?1");
        }

        public void Run(long seq)
        {
            _mark.Bind(2, seq).Run();
            _dropBody.Bind(1, seq).Run();
        }

        public void Dispose()
        {
            _mark.Dispose();
            _dropBody.Dispose();
        }
    }

    internal static void WriteRetry(SqliteConnection db, SqliteTransaction tx, long seq, int attempts, DateTimeOffset next, string error)
    {
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "UPDATE inbox SET attempts = $attempts, next_attempt_at = $next, last_error = $error WHERE seq = $seq";
        command.Parameters.AddWithValue("$attempts", attempts);
        command.Parameters.AddWithValue("$next", next.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$error", error);
        command.Parameters.AddWithValue("$seq", seq);
        command.ExecuteNonQuery();
    }

    internal static void WriteDeadLetter(SqliteConnection db, SqliteTransaction tx, PendingEvent row, long? candidateId, string reason, long nowMs)
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

    /// <summary>The bodies of a candidate's dead letters go when the candidate is deleted, merged away or anonymised.</summary>
    internal static void RedactDeadLetters(SqliteConnection db, SqliteTransaction tx, long candidateId)
    {
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "UPDATE dead_letters SET body = X'' WHERE candidate_id = $id AND length(body) > 0";
        command.Parameters.AddWithValue("$id", candidateId);
        command.ExecuteNonQuery();
    }

    /// <summary>Deletes processed events before <paramref name="cut"/> and dead letters before <paramref name="deadCut"/>; returns the event ids deleted (processed first).</summary>
    internal static (List<string> Forgotten, int Processed, int DeadLetters) Prune(SqliteConnection db, SqliteTransaction tx, long cut, long deadCut)
    {
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
        var processed = forgotten.Count;
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
        var deadLetters = command.ExecuteNonQuery();
        return (forgotten, processed, deadLetters);
    }

    /// <summary>The lowest log segment an inbox row still points into, if any.</summary>
    internal static long? LowestBodySegment(SqliteConnection db)
    {
        using var lowest = db.CreateCommand();
        // Only pending rows point into the log, and segments follow seq: the pending index finds it at once.
        lowest.CommandText = "SELECT body_segment FROM inbox WHERE state = 0 AND body_segment IS NOT NULL ORDER BY seq LIMIT 1";
        return lowest.ExecuteScalar() is long segment ? segment : null;
    }

    /// <summary>Pending rows whose body points into the segment before <paramref name="newest"/> or later (the two that may not be synced yet).</summary>
    internal static List<(long Seq, long Segment, long Offset, int Length)> PendingInSegments(SqliteConnection db, long newest)
    {
        using var rows = db.CreateCommand();
        rows.CommandText = "SELECT seq, body_segment, body_offset, body_length FROM inbox WHERE state = 0 AND body_segment >= $newest - 1";
        rows.Parameters.AddWithValue("$newest", newest);
        using var result = rows.ExecuteReader();
        var found = new List<(long, long, long, int)>();
        while (result.Read())
        {
            found.Add((result.GetInt64(0), result.GetInt64(1), result.GetInt64(2), result.GetInt32(3)));
        }
        return found;
    }

    internal static void Delete(SqliteConnection db, IReadOnlyCollection<long> seqs)
    {
        using var tx = db.BeginTransaction();
        using var delete = db.CreateCommand();
        delete.Transaction = tx;
        delete.CommandText = "DELETE FROM inbox WHERE seq = $seq";
        var seq = delete.Parameters.Add("$seq", SqliteType.Integer);
        foreach (var row in seqs)
        {
            seq.Value = row;
            delete.ExecuteNonQuery();
        }
        tx.Commit();
    }

    /// <summary>The highest seq ever given to an inbox row (sqlite_sequence keeps it after pruning).</summary>
    internal static long LastSeq(SqliteConnection db)
    {
        using var command = db.CreateCommand();
        command.CommandText = "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'inbox'), 0), COALESCE((SELECT MAX(seq) FROM inbox), 0))";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    internal static IEnumerable<string> EventIds(SqliteConnection db)
    {
        using var ids = db.CreateCommand();
        ids.CommandText = "SELECT event_id FROM inbox";
        using var reader = ids.ExecuteReader();
        while (reader.Read())
        {
            yield return reader.GetString(0);
        }
    }

    /// <summary>The database thread's prepared insert of one inbox row (its seq given by the inbox log), reused for every row.</summary>
    internal sealed class InsertStatement : IDisposable
    {
        private readonly PreparedStatement _insert;

        public InsertStatement(SqliteConnection connection)
        {
            _insert = new PreparedStatement(connection, """
                INSERT INTO inbox(seq, event_id, action, received_at, body_segment, body_offset, body_length)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                """);
        }

        /// <summary>Inserts the row of <paramref name="record"/> (in the connection's current transaction).</summary>
        public void Insert(LogRecord record)
        {
            ArgumentNullException.ThrowIfNull(record);
            _insert.Bind(1, record.Seq).Bind(2, record.EventId).Bind(3, record.Action).Bind(4, record.ReceivedAtMs)
                .Bind(5, record.Segment).Bind(6, record.Offset).Bind(7, record.BodyLength).Run();
        }

        public void Dispose() => _insert.Dispose();
    }
}
