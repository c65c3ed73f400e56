using System.Globalization;
using Greenhouse.Receiver.Mirror;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The change log (table <c>changes</c>): one numbered entry per mirror change, which watchers read
/// in order. Entries are written by <see cref="MirrorStore"/> in the transaction of their change;
/// a watcher reads with a <see cref="ChangeLogReader"/> of its own.
/// </summary>
internal static class ChangeLog
{
    /// <summary>The last number given (sqlite_sequence keeps it even after old changes were pruned).</summary>
    internal static long LastNumber(SqliteConnection db)
    {
        using var last = db.CreateCommand();
        last.CommandText = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)";
        return Convert.ToInt64(last.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The insert of change-log entries, prepared once per transaction.</summary>
    internal static PreparedStatement AppendStatement(SqliteConnection db, long nowMs) =>
        new PreparedStatement(db, "INSERT INTO changes(change_number, candidate_id, kind, data, merged_into, changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .Bind(6, nowMs);

    /// <param name="data">The change's record as UTF-8 JSON; empty for a change without one (delete, merge).</param>
    internal static void Append(PreparedStatement append, MirrorChange change, ReadOnlySpan<byte> data) =>
        append.Bind(1, change.ChangeNumber).Bind(2, change.CandidateId).Bind(3, (int)change.Kind).BindUtf8(4, data).Bind(5, change.MergedInto).Run();

    /// <summary>Drops the data of the candidate's entries before <paramref name="before"/> (number, kind and time stay, so watchers keep their positions).</summary>
    internal static void Redact(SqliteConnection db, SqliteTransaction tx, long candidateId, long before) =>
        ReceiverDatabase.Execute(db, "UPDATE changes SET data = NULL WHERE candidate_id = $id AND change_number < $n AND data IS NOT NULL", tx,
            ("$id", candidateId), ("$n", before));

    internal static int Prune(SqliteConnection db, SqliteTransaction tx, long cut) =>
        ReceiverDatabase.Execute(db, "DELETE FROM changes WHERE changed_at < $cut", tx, ("$cut", cut));
}
