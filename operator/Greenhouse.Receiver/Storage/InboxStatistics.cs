using System.Globalization;
using Greenhouse.Receiver.Configuration;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>Reads inbox counts for SyncHealth and the gauges, on a connection of its own.</summary>
public sealed class InboxStatistics : IDisposable
{
    private readonly ReceiverOptions _options;
    private readonly Lock _gate = new();
    private SqliteConnection? _connection;

    public InboxStatistics(ReceiverOptions options) => _options = options;

    /// <summary>The counts, or null while the database cannot be read.</summary>
    public InboxSnapshot? Read()
    {
        lock (_gate)
        {
            try
            {
                _connection ??= ReceiverDatabase.Open(_options.DataDirectory, _options.CommitTimeout);
                using var command = _connection.CreateCommand();
                command.CommandText = """
                    SELECT (SELECT COUNT(*) FROM inbox WHERE state = 0),
                           (SELECT COUNT(*) FROM dead_letters),
                           (SELECT received_at FROM inbox WHERE state = 0 ORDER BY seq LIMIT 1),
                           (SELECT received_at FROM inbox ORDER BY seq DESC LIMIT 1)
                    """;
                using var reader = command.ExecuteReader();
                reader.Read();
                return new InboxSnapshot(reader.GetInt64(0), reader.GetInt64(1), Time(reader, 2), Time(reader, 3));
            }
            catch (SqliteException)
            {
                _connection?.Dispose();
                _connection = null;
                return null;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _connection?.Dispose();
        }
    }

    private static DateTimeOffset? Time(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture));
}
