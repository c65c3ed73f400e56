using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Tests;

/// <summary>The storage side's reusable statements bound through SQLite's own calls.</summary>
public sealed class PreparedStatementTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ghr-stmt-").FullName;

    public void Dispose() => TempFolders.Delete(_root);

    [Fact]
    public void Values_bind_by_number_stay_bound_across_runs_and_a_failed_run_leaves_the_statement_usable()
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(_root, "t.db")}");
        db.Open();
        ReceiverDatabase.Execute(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER, blob BLOB, at INTEGER NOT NULL)");
        using (var tx = db.BeginTransaction())
        using (var insert = new PreparedStatement(db, "INSERT INTO t(id, name, n, blob, at) VALUES (?1, ?2, ?3, ?4, ?5)"))
        {
            insert.Bind(5, 99L);
            Assert.Equal(1, insert.Bind(1, 1L).Bind(2, "Zoë 🙂").Bind(3, (long?)7).Bind(4, new byte[] { 1, 2, 3 }).Run());
            Assert.Equal(1, insert.Bind(1, 2L).Bind(2, (string?)null).Bind(3, (long?)null).Bind(4, ReadOnlySpan<byte>.Empty).Run());
            // A primary-key clash fails like a command does, and the statement runs again afterwards.
            var clash = Assert.Throws<SqliteException>(() => insert.Bind(1, 1L).Run());
            Assert.Equal(19, clash.SqliteErrorCode); // SQLITE_CONSTRAINT
            Assert.Equal(1, insert.Bind(1, 3L).Bind(2, "three").Run());
            tx.Commit();
        }
        using var read = db.CreateCommand();
        read.CommandText = "SELECT id, name, n, hex(blob), at FROM t ORDER BY id";
        using var rows = read.ExecuteReader();
        var seen = new List<string>();
        while (rows.Read())
        {
            seen.Add(string.Join('|', Enumerable.Range(0, 5).Select(i => rows.IsDBNull(i) ? "null" : Convert.ToString(rows.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }
        // Row 3 has the n and blob bound for row 2: a value stays bound until it is bound again.
        Assert.Equal(["1|Zoë 🙂|7|010203|99", "2|null|null||99", "3|three|null||99"], seen);
        using var update = new PreparedStatement(db, "UPDATE t SET at = ?1 WHERE id > ?2");
        Assert.Equal(2, update.Bind(1, 5L).Bind(2, 1L).Run());
    }

    [Fact]
    public void Utf8_bytes_bind_as_the_same_text_a_string_binds_and_no_bytes_bind_null()
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(_root, "u.db")}");
        db.Open();
        ReceiverDatabase.Execute(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)");
        const string Text = "{\"name\":\"Zoë 🙂\"}";
        using (var insert = new PreparedStatement(db, "INSERT INTO t(id, name) VALUES (?1, ?2)"))
        {
            insert.Bind(1, 1L).Bind(2, Text).Run();
            insert.Bind(1, 2L).BindUtf8(2, System.Text.Encoding.UTF8.GetBytes(Text)).Run();
            insert.Bind(1, 3L).BindUtf8(2, ReadOnlySpan<byte>.Empty).Run();
        }
        using var read = db.CreateCommand();
        read.CommandText = "SELECT id, typeof(name), name, hex(name) FROM t ORDER BY id";
        using var rows = read.ExecuteReader();
        var seen = new List<(long, string, string?, string)>();
        while (rows.Read())
        {
            seen.Add((rows.GetInt64(0), rows.GetString(1), rows.IsDBNull(2) ? null : rows.GetString(2), rows.GetString(3)));
        }
        var hex = Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(Text));
        Assert.Equal([(1L, "text", Text, hex), (2L, "text", Text, hex), (3L, "null", null, "")], seen);
    }
}
