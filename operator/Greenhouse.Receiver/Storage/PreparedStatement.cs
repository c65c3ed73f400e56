using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// One SQL statement prepared once on a connection and run many times (per row of a batch), bound
/// through SQLite's own calls. <see cref="SqliteCommand"/> creates a data reader, a statement
/// enumerator and a binder object per parameter on every execution and boxes every number: for the
/// statements run once per delivery or per applied event, that was most of the garbage the storage
/// side made (and each collection pauses the request threads). Parameters are numbered (<c>?1</c>,
/// <c>?2</c>, ...); a value bound once stays bound for the following runs. Text is bound as UTF-16
/// from a string, or as UTF-8 from bytes (<see cref="BindUtf8"/>, what SQLite stores: no string and
/// no conversion); SQLite copies either when it is bound. It runs inside whatever transaction the
/// connection has open. Errors are thrown as <see cref="SqliteException"/>, as a command's are.
/// </summary>
internal sealed class PreparedStatement : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;

    public PreparedStatement(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(sql);
        _connection = connection;
        var db = Handle;
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(db, sql, out _statement), db);
    }

    private sqlite3 Handle => _connection.Handle ?? throw new InvalidOperationException("the database connection is not open");

    public PreparedStatement Bind(int index, long value) => Checked(raw.sqlite3_bind_int64(_statement, index, value));

    public PreparedStatement Bind(int index, long? value) =>
        value is { } v ? Bind(index, v) : Checked(raw.sqlite3_bind_null(_statement, index));

    public PreparedStatement Bind(int index, string? value) =>
        Checked(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text16(_statement, index, value.AsSpan()));

    public PreparedStatement Bind(int index, ReadOnlySpan<byte> blob) => Checked(raw.sqlite3_bind_blob(_statement, index, blob));

    /// <summary>Binds UTF-8 text (stored as the same TEXT a string would be); no bytes bind NULL.</summary>
    public PreparedStatement BindUtf8(int index, ReadOnlySpan<byte> text) =>
        Checked(text.IsEmpty ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, text));

    /// <summary>Runs the statement with the values bound; the number of rows it changed.</summary>
    public int Run()
    {
        var db = Handle;
        try
        {
            int result;
            while ((result = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
            }
            if (result != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(result, db);
            }
            return raw.sqlite3_changes(db);
        }
        finally
        {
            // Also after a failure, so the statement holds no lock and can run again.
            raw.sqlite3_reset(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    private PreparedStatement Checked(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, Handle);
        }
        return this;
    }
}
