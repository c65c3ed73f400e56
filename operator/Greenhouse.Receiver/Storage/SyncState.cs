using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>Sweep bookkeeping persisted in the <c>sync_state</c> table (Unix milliseconds): read with <see cref="Read(Configuration.ReceiverOptions)"/>, written with the sweep's last commit (<see cref="MirrorBatch.SaveSyncState"/>).</summary>
public sealed record SyncState(DateTimeOffset? Watermark, DateTimeOffset? LastSweepAt, DateTimeOffset? LastFullSweepAt)
{
    private const string WatermarkKey = "watermark";
    private const string LastSweepKey = "last_sweep";
    private const string LastFullSweepKey = "last_full_sweep";

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
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "INSERT INTO sync_state(key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        var key = command.Parameters.Add("$key", SqliteType.Text);
        var value = command.Parameters.Add("$value", SqliteType.Integer);
        foreach (var (name, at) in new[] { (WatermarkKey, Watermark), (LastSweepKey, LastSweepAt), (LastFullSweepKey, LastFullSweepAt) })
        {
            if (at is { } set)
            {
                key.Value = name;
                value.Value = set.ToUnixTimeMilliseconds();
                command.ExecuteNonQuery();
            }
        }
    }

    private static DateTimeOffset? Get(Dictionary<string, DateTimeOffset> values, string key) => values.TryGetValue(key, out var value) ? value : null;
}
