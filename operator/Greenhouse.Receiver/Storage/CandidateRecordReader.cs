using System.Collections.Concurrent;
using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Mirror;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Reads candidate records for the mirror: a small pool of read connections, each with its point
/// read prepared, so concurrent API calls do not wait for each other (a connection serves one
/// thread at a time). A record read is a primary-key lookup plus JSON deserialisation.
/// </summary>
public sealed class CandidateRecordReader : ICandidateRecordReader, IDisposable
{
    // Enough for the API's concurrent readers; more would only hold more page cache.
    private const int MaxIdle = 8;
    // Each connection's page cache (KiB): B-tree interior pages of the candidates table stay hot.
    private const int CacheKib = 2048;

    private readonly ReceiverOptions _options;
    private readonly ConcurrentBag<Connection> _idle = [];
    private volatile bool _disposed;

    public CandidateRecordReader(ReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    public CandidateRecord? Read(long id)
    {
        var connection = Rent();
        try
        {
            connection.Id.Value = id;
            return connection.Point.ExecuteScalar() is string data ? CandidateStore.Deserialize(data) : null;
        }
        finally
        {
            Return(connection);
        }
    }

    /// <summary>
    /// One statement for a page of ids (a query page's records that are not cached): one B-tree walk
    /// in id order instead of a prepared point read per id.
    /// </summary>
    public IReadOnlyList<CandidateRecord> ReadMany(IReadOnlyCollection<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return [];
        }
        var connection = Rent();
        try
        {
            using var command = connection.Db.CreateCommand();
            command.CommandText = "SELECT data FROM candidates WHERE id IN (SELECT value FROM json_each($ids)) ORDER BY id";
            command.Parameters.AddWithValue("$ids", "[" + string.Join(',', ids) + "]");
            using var reader = command.ExecuteReader();
            var records = new List<CandidateRecord>(ids.Count);
            while (reader.Read())
            {
                records.Add(CandidateStore.Deserialize(reader.GetString(0)));
            }
            return records;
        }
        finally
        {
            Return(connection);
        }
    }

    public IReadOnlyList<CandidateRecord> ReadPage(long afterId, int size, DateTimeOffset? updatedSince)
    {
        var connection = Rent();
        try
        {
            using var command = connection.Db.CreateCommand();
            command.CommandText = updatedSince is null
                ? "SELECT data FROM candidates WHERE id > $after ORDER BY id LIMIT $size"
                : "SELECT c.data FROM candidate_index i JOIN candidates c ON c.id = i.id WHERE i.id > $after AND i.updated_at >= $since ORDER BY i.id LIMIT $size";
            command.Parameters.AddWithValue("$after", afterId);
            command.Parameters.AddWithValue("$size", size);
            if (updatedSince is { } since)
            {
                command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
            }
            using var reader = command.ExecuteReader();
            var page = new List<CandidateRecord>(Math.Min(size, 1024));
            while (reader.Read())
            {
                page.Add(CandidateStore.Deserialize(reader.GetString(0)));
            }
            return page;
        }
        finally
        {
            Return(connection);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }
    }

    private Connection Rent()
    {
        if (_idle.TryTake(out var connection))
        {
            return connection;
        }
        var db = ReceiverDatabase.Open(_options.DataDirectory, _options.CommitTimeout);
        ReceiverDatabase.Execute(db, $"PRAGMA cache_size = -{CacheKib}");
        return new Connection(db);
    }

    private void Return(Connection connection)
    {
        if (_disposed || _idle.Count >= MaxIdle)
        {
            connection.Dispose();
            return;
        }
        _idle.Add(connection);
    }

    private sealed class Connection : IDisposable
    {
        public Connection(SqliteConnection db)
        {
            Db = db;
            Point = db.CreateCommand();
            Point.CommandText = "SELECT data FROM candidates WHERE id = $id";
            Id = Point.Parameters.Add("$id", SqliteType.Integer);
        }

        public SqliteConnection Db { get; }
        public SqliteCommand Point { get; }
        public SqliteParameter Id { get; }

        public void Dispose()
        {
            Point.Dispose();
            Db.Dispose();
        }
    }
}
