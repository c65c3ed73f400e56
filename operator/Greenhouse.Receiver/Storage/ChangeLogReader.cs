using System.Globalization;
using System.Text.Json;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>Reads the change log on a connection of its own (one per watcher).</summary>
public sealed class ChangeLogReader : IDisposable
{
    private readonly SqliteConnection _db;

    private ChangeLogReader(SqliteConnection connection) => _db = connection;

    /// <summary>Opens a reader (a read connection of its own); throws <see cref="SqliteException"/> when the database cannot be read.</summary>
    public static ChangeLogReader Open(ReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ChangeLogReader(ReceiverDatabase.Open(options.DataDirectory, options.CommitTimeout));
    }

    /// <summary>The first change number still retained, or null when the log is empty.</summary>
    public long? FirstRetained()
    {
        using var command = _db.CreateCommand();
        command.CommandText = "SELECT MIN(change_number) FROM changes";
        var value = command.ExecuteScalar();
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Up to <paramref name="limit"/> entries after <paramref name="after"/>, in order; Candidate is null for deletes, merges and redacted entries.</summary>
    public List<MirrorChange> Read(long after, int limit)
    {
        using var command = _db.CreateCommand();
        command.CommandText = "SELECT change_number, candidate_id, kind, data, merged_into, changed_at FROM changes WHERE change_number > $after ORDER BY change_number LIMIT $limit";
        command.Parameters.AddWithValue("$after", after);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var result = new List<MirrorChange>();
        while (reader.Read())
        {
            result.Add(new MirrorChange(
                (CandidateChangeKind)reader.GetInt32(2),
                reader.GetInt64(1),
                reader.IsDBNull(3) ? null : JsonSerializer.Deserialize(reader.GetString(3), CandidateJson.Default.CandidateRecord),
                reader.IsDBNull(4) ? null : reader.GetInt64(4))
            {
                ChangeNumber = reader.GetInt64(0),
                ChangedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
            });
        }
        return result;
    }

    public void Dispose() => _db.Dispose();
}
