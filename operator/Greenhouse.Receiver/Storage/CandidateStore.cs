using System.Text.Json;
using Greenhouse.Receiver.Mirror;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The mirrored candidate records (table <c>candidates</c>, JSON) and the merges (table
/// <c>merged_candidates</c>). Written by <see cref="MirrorStore"/> in the transaction of each change.
/// </summary>
internal static class CandidateStore
{
    public static IEnumerable<CandidateRecord> ReadAll(SqliteConnection db)
    {
        using var candidates = db.CreateCommand();
        candidates.CommandText = "SELECT data FROM candidates";
        using var reader = candidates.ExecuteReader();
        while (reader.Read())
        {
            yield return Deserialize(reader.GetString(0));
        }
    }

    public static IEnumerable<(long Loser, long Survivor)> ReadMerges(SqliteConnection db)
    {
        using var merges = db.CreateCommand();
        merges.CommandText = "SELECT loser_id, survivor_id FROM merged_candidates";
        using var reader = merges.ExecuteReader();
        while (reader.Read())
        {
            yield return (reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    public static string Serialize(CandidateRecord candidate) => JsonSerializer.Serialize(candidate, CandidateJson.Default.CandidateRecord);

    public static CandidateRecord Deserialize(string data) => JsonSerializer.Deserialize(data, CandidateJson.Default.CandidateRecord)!;

    /// <summary>The statements that write candidates and merges, prepared once per transaction.</summary>
    public sealed class Writer : IDisposable
    {
        private readonly SqliteCommand _upsert;
        private readonly SqliteCommand _delete;
        private readonly SqliteCommand _unmerge;
        private readonly SqliteCommand _merge;

        public Writer(SqliteConnection db, SqliteTransaction tx, long nowMs)
        {
            _upsert = Command(db, tx, "INSERT INTO candidates(id, data) VALUES ($id, $data) ON CONFLICT(id) DO UPDATE SET data = excluded.data");
            _delete = Command(db, tx, "DELETE FROM candidates WHERE id = $id");
            _unmerge = Command(db, tx, "DELETE FROM merged_candidates WHERE loser_id = $id");
            _merge = Command(db, tx, "INSERT INTO merged_candidates(loser_id, survivor_id, merged_at) VALUES ($id, $into, $at) ON CONFLICT(loser_id) DO UPDATE SET survivor_id = excluded.survivor_id, merged_at = excluded.merged_at");
            _merge.Parameters["$at"].Value = nowMs;
        }

        /// <param name="wasMerged">The candidate was merged away before: a record that comes back after a merge is live again.</param>
        public void Write(MirrorChange change, string? data, bool wasMerged)
        {
            switch (change.Kind)
            {
                case CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized:
                    Run(_upsert, ("$id", change.CandidateId), ("$data", data));
                    if (wasMerged)
                    {
                        Run(_unmerge, ("$id", change.CandidateId));
                    }
                    break;
                case CandidateChangeKind.Deleted:
                    Run(_delete, ("$id", change.CandidateId));
                    break;
                case CandidateChangeKind.Merged:
                    Run(_delete, ("$id", change.CandidateId));
                    Run(_merge, ("$id", change.CandidateId), ("$into", change.MergedInto));
                    break;
            }
        }

        public void Dispose()
        {
            foreach (var command in new[] { _upsert, _delete, _unmerge, _merge })
            {
                command.Dispose();
            }
        }

        private static SqliteCommand Command(SqliteConnection db, SqliteTransaction tx, string sql)
        {
            var command = db.CreateCommand();
            command.Transaction = tx;
            command.CommandText = sql;
            foreach (var name in new[] { "$id", "$data", "$into", "$at" })
            {
                if (sql.Contains(name, StringComparison.Ordinal))
                {
                    command.Parameters.AddWithValue(name, DBNull.Value);
                }
            }
            return command;
        }
    }

    internal static void Run(SqliteCommand command, params (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            command.Parameters[name].Value = value ?? DBNull.Value;
        }
        command.ExecuteNonQuery();
    }
}
