using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The schema of the receiver database and its migrations. Run once at start by the database
/// writer (<see cref="ReceiverDatabase.OpenWriter"/>), in one transaction; read connections only
/// check that the schema is current (<see cref="ReceiverDatabase.Open"/>) and never change it.
/// </summary>
internal static class SchemaMigrations
{
    public const int SchemaVersion = 5;

    private const string Schema = """
        -- Version 3: event ids are deduplicated by the inbox writer (an in-memory set of their
        -- hashes, loaded from this table), not by a UNIQUE index that random ids would touch on a
        -- random page per delivery; bodies live in the inbox log (InboxLog), body_* locate them.
        CREATE TABLE IF NOT EXISTS inbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL,
            action TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            state INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            processed_at INTEGER,
            last_error TEXT,
            body_segment INTEGER,
            body_offset INTEGER,
            body_length INTEGER);
        -- Bodies of events stored before version 3 (body_segment NULL).
        CREATE TABLE IF NOT EXISTS inbox_bodies (
            seq INTEGER PRIMARY KEY,
            body BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS dead_letters (
            seq INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL,
            action TEXT NOT NULL,
            body BLOB NOT NULL,
            received_at INTEGER NOT NULL,
            failed_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            reason TEXT NOT NULL,
            candidate_id INTEGER);
        CREATE TABLE IF NOT EXISTS candidates (
            id INTEGER PRIMARY KEY,
            data TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS merged_candidates (
            loser_id INTEGER PRIMARY KEY,
            survivor_id INTEGER NOT NULL,
            merged_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS changes (
            change_number INTEGER PRIMARY KEY AUTOINCREMENT,
            candidate_id INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            data TEXT,
            merged_into INTEGER,
            changed_at INTEGER NOT NULL);
        -- Version 2 (Harvest sync). Candidates waiting to be fetched from Harvest: one row per
        -- candidate however many events touched it; version changes with every new request.
        CREATE TABLE IF NOT EXISTS hydration_queue (
            candidate_id INTEGER PRIMARY KEY,
            requested_at INTEGER NOT NULL,
            due_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 1,
            last_error TEXT);
        CREATE TABLE IF NOT EXISTS sync_state (
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL);
        -- Write-back outbox: one row per client request id; state 0 = sent or being sent, 1 = done.
        CREATE TABLE IF NOT EXISTS writeback_outbox (
            request_id TEXT PRIMARY KEY,
            operation TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            state INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            completed_at INTEGER,
            greenhouse_id INTEGER,
            candidate_id INTEGER);
        -- Version 4 (privacy): deleted and merged-away candidate ids, which webhooks may not bring back.
        CREATE TABLE IF NOT EXISTS tombstones (
            candidate_id INTEGER PRIMARY KEY,
            reason TEXT NOT NULL,
            at INTEGER NOT NULL);
        -- Version 5 (bounded-memory mirror): per candidate, what the in-memory indexes hold (XXH64
        -- hashes of its lookup keys, 8 bytes each; query facets), so start-up reads this small
        -- table instead of every record.
        CREATE TABLE IF NOT EXISTS candidate_index (
            id INTEGER PRIMARY KEY,
            updated_at INTEGER NOT NULL,
            key_hashes BLOB NOT NULL,
            latest_rejection INTEGER,
            no_active INTEGER NOT NULL,
            tags TEXT NOT NULL,
            sources TEXT NOT NULL);
        """;

    private const string Indexes = """
        CREATE INDEX IF NOT EXISTS inbox_pending ON inbox(seq) WHERE state = 0;
        CREATE INDEX IF NOT EXISTS inbox_processed ON inbox(processed_at) WHERE state = 1;
        CREATE INDEX IF NOT EXISTS changes_candidate ON changes(candidate_id);
        """;

    /// <summary>
    /// Version 4: dead letters know their candidate (to redact them), and rows that are no longer
    /// pending stop pointing into the inbox log, so they never keep a segment from being deleted.
    /// </summary>
    private static void MigrateToVersion4(SqliteConnection connection, SqliteTransaction tx)
    {
        using var probe = connection.CreateCommand();
        probe.Transaction = tx;
        probe.CommandText = "SELECT NOT EXISTS (SELECT 1 FROM pragma_table_info('dead_letters') WHERE name = 'candidate_id')";
        if (Convert.ToInt64(probe.ExecuteScalar(), CultureInfo.InvariantCulture) == 1)
        {
            ReceiverDatabase.Execute(connection, "ALTER TABLE dead_letters ADD COLUMN candidate_id INTEGER", tx);
        }
        ReceiverDatabase.Execute(connection, "UPDATE inbox SET body_segment = NULL, body_offset = NULL, body_length = NULL WHERE state <> 0 AND body_segment IS NOT NULL", tx);
    }

    /// <summary>
    /// A version 1-2 inbox has a UNIQUE event_id and no body columns: it is renamed to inbox_v2
    /// before the schema is created, then its rows are copied (see <see cref="CopyVersion2Inbox"/>).
    /// </summary>
    private static bool SetAsideVersion2Inbox(SqliteConnection connection, SqliteTransaction tx)
    {
        using var probe = connection.CreateCommand();
        probe.Transaction = tx;
        probe.CommandText = """
            SELECT EXISTS (SELECT 1 FROM pragma_table_info('inbox'))
               AND NOT EXISTS (SELECT 1 FROM pragma_table_info('inbox') WHERE name = 'body_segment')
            """;
        if (Convert.ToInt64(probe.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
        {
            return false;
        }
        ReceiverDatabase.Execute(connection, """
            ALTER TABLE inbox RENAME TO inbox_v2;
            DROP INDEX IF EXISTS inbox_pending;
            DROP INDEX IF EXISTS inbox_processed;
            """, tx);
        return true;
    }

    /// <summary>The old rows, their bodies left in inbox_bodies, and the old sequence, so numbers are never reused.</summary>
    private static void CopyVersion2Inbox(SqliteConnection connection, SqliteTransaction tx) =>
        ReceiverDatabase.Execute(connection, """
            INSERT INTO inbox(seq, event_id, action, received_at, state, attempts, next_attempt_at, processed_at, last_error)
                SELECT seq, event_id, action, received_at, state, attempts, next_attempt_at, processed_at, last_error FROM inbox_v2;
            INSERT INTO sqlite_sequence(name, seq) SELECT 'inbox', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'inbox');
            UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'inbox_v2'), 0)) WHERE name = 'inbox';
            DROP TABLE inbox_v2;
            """, tx);

    /// <summary>Version 5: the index rows of the candidates stored before it (each record is read once, here).</summary>
    private static void MigrateToVersion5(SqliteConnection connection, SqliteTransaction tx)
    {
        using var missing = connection.CreateCommand();
        missing.Transaction = tx;
        missing.CommandText = "SELECT data FROM candidates WHERE id NOT IN (SELECT id FROM candidate_index)";
        using var index = new PreparedStatement(connection, CandidateStore.UpsertIndexSql);
        using var reader = missing.ExecuteReader();
        while (reader.Read())
        {
            CandidateStore.WriteIndex(index, CandidateStore.Deserialize(reader.GetString(0)));
        }
    }

    /// <summary>Brings the database to <see cref="SchemaVersion"/>; a current database costs one PRAGMA read.</summary>
    public static void Migrate(SqliteConnection connection)
    {
        if (ReceiverDatabase.Version(connection) >= SchemaVersion)
        {
            return;
        }
        using var tx = connection.BeginTransaction();
        var migrating = SetAsideVersion2Inbox(connection, tx);
        ReceiverDatabase.Execute(connection, Schema, tx);
        if (migrating)
        {
            CopyVersion2Inbox(connection, tx);
        }
        MigrateToVersion4(connection, tx);
        MigrateToVersion5(connection, tx);
        ReceiverDatabase.Execute(connection, Indexes, tx);
        ReceiverDatabase.Execute(connection, $"PRAGMA user_version = {SchemaVersion}", tx);
        tx.Commit();
    }
}
