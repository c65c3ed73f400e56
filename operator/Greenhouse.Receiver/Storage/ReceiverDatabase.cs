using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Connections to the receiver's SQLite database (WAL). Only the database writer
/// (<see cref="WebhookInbox"/>) opens with <see cref="OpenWriter"/>, which runs the migrations
/// (<see cref="SchemaMigrations"/>); every other connection reads with <see cref="Open"/>, which
/// refuses a database whose schema is not current instead of migrating it.
/// </summary>
public static class ReceiverDatabase
{
    public const string FileName = "receiver.db";

    /// <summary>
    /// Opens a read connection with synchronous=NORMAL: commits do not fsync (the inbox's writer fsyncs
    /// the WAL on a thread of its own before it answers, see <see cref="WebhookInbox"/>), while
    /// checkpoints still sync the WAL before and the database after copying, so a WAL that is
    /// reused never held the only copy of a committed transaction. Throws a <see cref="SqliteException"/>
    /// while the writer has not migrated the database yet.
    /// </summary>
    public static SqliteConnection Open(string dataDirectory, TimeSpan busyTimeout)
    {
        var connection = Connect(dataDirectory, busyTimeout, SqliteOpenMode.ReadWrite);
        try
        {
            var version = Version(connection);
            if (version < SchemaMigrations.SchemaVersion)
            {
                throw new SqliteException($"the receiver database has schema version {version}, not {SchemaMigrations.SchemaVersion}: the writer has not migrated it yet", 1);
            }
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The writer's connection: creates the database when missing and migrates it to the current schema.</summary>
    internal static SqliteConnection OpenWriter(string dataDirectory, TimeSpan busyTimeout)
    {
        Directory.CreateDirectory(dataDirectory);
        var connection = Connect(dataDirectory, busyTimeout, SqliteOpenMode.ReadWriteCreate);
        try
        {
            SchemaMigrations.Migrate(connection);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Runs one statement with its parameters (name, value; null is SQL NULL); the rows it changed.</summary>
    public static int Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parameters);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command.ExecuteNonQuery();
    }

    internal static int Version(SqliteConnection connection)
    {
        using var version = connection.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static SqliteConnection Connect(string dataDirectory, TimeSpan busyTimeout, SqliteOpenMode mode)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, FileName),
            Mode = mode,
            Pooling = false,
            DefaultTimeout = (int)Math.Max(1, busyTimeout.TotalSeconds),
        };
        var connection = new SqliteConnection(builder.ConnectionString);
        try
        {
            connection.Open();
            Execute(connection, $"""
                PRAGMA busy_timeout = {(int)busyTimeout.TotalMilliseconds};
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                PRAGMA foreign_keys = OFF;
                PRAGMA secure_delete = ON;
                """);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
