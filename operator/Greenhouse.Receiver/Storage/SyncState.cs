using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Sweep bookkeeping persisted in the <c>sync_state</c> table (Unix milliseconds): read with <see cref="Read(Configuration.ReceiverOptions)"/>,
/// written with the sweep's last commit (<see cref="MirrorBatch.SaveSyncState"/>). The table's other entry is the inbox log position
/// the inbox's rows reach (<see cref="WriteInboxLogPosition"/>).
/// </summary>
public sealed record SyncState(DateTimeOffset? Watermark, DateTimeOffset? LastSweepAt, DateTimeOffset? LastFullSweepAt)
{
    private const string WatermarkKey = "watermark";
    private const string LastSweepKey = "last_sweep";
    private const string LastFullSweepKey = "last_full_sweep";
    private const string InboxLogSegmentKey = "inbox_log_segment";
    private const string InboxLogOffsetKey = "inbox_log_offset";

    /// <summary>Reads the state on a short-lived read connection.</summary>
    public static SyncState Read(Configuration.ReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var db = ReceiverDatabase.Open(options.DataDirectory, options.CommitTimeout);
        return Read(db);
    }

    internal static SyncState Read(SqliteConnection db)
    {
        using var command = db.CreateCommand();
        command.CommandText = "SELECT key, value FROM sync_state";
        using var reader = command.ExecuteReader();
        var values = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        while (reader.Read())
        {
            values[reader.GetString(0)] = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1));
        }
        return new SyncState(Get(values, WatermarkKey), Get(values, LastSweepKey), Get(values, LastFullSweepKey));
    }

    internal void Write(SqliteConnection db, SqliteTransaction tx)
    {
        foreach (var (name, at) in new[] { (WatermarkKey, Watermark), (LastSweepKey, LastSweepAt), (LastFullSweepKey, LastFullSweepAt) })
        {
            if (at is { } set)
            {
                Upsert(db, tx, name, set.ToUnixTimeMilliseconds());
            }
        }
    }

    /// <summary>Where the inbox log's records have rows up to (segment, offset), or null when no version that saves it ran yet.</summary>
    internal static (long Segment, long Offset)? ReadInboxLogPosition(SqliteConnection db)
    {
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT (SELECT value FROM sync_state WHERE key = '{InboxLogSegmentKey}'), (SELECT value FROM sync_state WHERE key = '{InboxLogOffsetKey}')";
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.IsDBNull(0) ? null : (reader.GetInt64(0), reader.IsDBNull(1) ? 0 : reader.GetInt64(1));
    }

    /// <summary>Saves the inbox log position the rows of a transaction reach, in that transaction.</summary>
    internal static void WriteInboxLogPosition(SqliteConnection db, SqliteTransaction tx, long segment, long offset)
    {
        Upsert(db, tx, InboxLogSegmentKey, segment);
        Upsert(db, tx, InboxLogOffsetKey, offset);
    }

    private static void Upsert(SqliteConnection db, SqliteTransaction tx, string key, long value) =>
        ReceiverDatabase.Execute(db, "INSERT INTO sync_state(key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value", tx,
            ("$key", key), ("$value", value));

    private static DateTimeOffset? Get(Dictionary<string, DateTimeOffset> values, string key) => values.TryGetValue(key, out var value) ? value : null;
}
