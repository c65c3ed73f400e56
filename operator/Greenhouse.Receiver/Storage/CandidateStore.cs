using System.Text.Json;
using Greenhouse.Receiver.Mirror;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The mirrored candidate records (table <c>candidates</c>, JSON), what the in-memory indexes need
/// of each (table <c>candidate_index</c>: lookup-key hashes and query facets, so start-up never
/// reads a record) and the merges (table <c>merged_candidates</c>). Written by <see cref="MirrorStore"/>
/// in the transaction of each change; records are read by <see cref="CandidateRecordReader"/>.
/// </summary>
internal static class CandidateStore
{
    private const char Separator = '\u001f';

    /// <summary>How many candidates and lookup-key hashes the index table holds.</summary>
    public static (int Candidates, int Keys) Count(SqliteConnection db)
    {
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*), COALESCE(SUM(length(key_hashes)), 0) / 8 FROM candidate_index";
        using var reader = count.ExecuteReader();
        reader.Read();
        return (checked((int)reader.GetInt64(0)), checked((int)reader.GetInt64(1)));
    }

    /// <summary>Every candidate's index entry, in id order.</summary>
    public static IEnumerable<CandidateIndexEntry> ReadIndex(SqliteConnection db)
    {
        using var command = db.CreateCommand();
        command.CommandText = "SELECT id, key_hashes, latest_rejection, no_active, tags, sources FROM candidate_index ORDER BY id";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var blob = reader.IsDBNull(1) ? [] : (byte[])reader.GetValue(1);
            var hashes = new ulong[blob.Length / 8];
            for (var i = 0; i < hashes.Length; i++)
            {
                hashes[i] = BitConverter.ToUInt64(blob, i * 8);
            }
            yield return new CandidateIndexEntry(reader.GetInt64(0), hashes, reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.GetInt64(3) != 0,
                Split(reader.IsDBNull(4) ? null : reader.GetString(4)), Split(reader.IsDBNull(5) ? null : reader.GetString(5)));
        }
    }

    private static string[] Split(string? joined) => string.IsNullOrEmpty(joined) ? [] : joined.Split(Separator);

    /// <summary>Writes a candidate's index row (used by the writer and by the migration that creates the table).</summary>
    internal static void WriteIndex(PreparedStatement upsertIndex, CandidateRecord candidate, CandidateIndexEntry? computed = null)
    {
        var entry = computed ?? CandidateIndexEntry.Of(candidate);
        Span<byte> small = stackalloc byte[256];
        var blob = entry.KeyHashes.Count * 8 <= small.Length ? small[..(entry.KeyHashes.Count * 8)] : new byte[entry.KeyHashes.Count * 8];
        for (var i = 0; i < entry.KeyHashes.Count; i++)
        {
            BitConverter.TryWriteBytes(blob[(i * 8)..], entry.KeyHashes[i]);
        }
        upsertIndex.Bind(1, candidate.Id).Bind(2, candidate.UpdatedAt.ToUnixTimeMilliseconds()).Bind(3, blob)
            .Bind(4, entry.LatestRejection).Bind(5, entry.NoActiveApplication ? 1 : 0)
            .Bind(6, string.Join(Separator, entry.Tags)).Bind(7, string.Join(Separator, entry.Sources)).Run();
    }

    internal const string UpsertIndexSql = """
        INSERT INTO candidate_index(id, updated_at, key_hashes, latest_rejection, no_active, tags, sources)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, key_hashes = excluded.key_hashes,
            latest_rejection = excluded.latest_rejection, no_active = excluded.no_active, tags = excluded.tags, sources = excluded.sources
        """;

    /// <summary>Writes one candidate outside the mirror (the 1,000,000-candidate benchmark builds its database with it).</summary>
    internal static void Insert(PreparedStatement upsertRecord, PreparedStatement upsertIndex, CandidateRecord candidate)
    {
        upsertRecord.Bind(1, candidate.Id).BindUtf8(2, JsonSerializer.SerializeToUtf8Bytes(candidate, CandidateJson.Default.CandidateRecord)).Run();
        WriteIndex(upsertIndex, candidate);
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

    public static CandidateRecord Deserialize(string data) => JsonSerializer.Deserialize(data, CandidateJson.Default.CandidateRecord)!;

    internal const string UpsertRecordSql = "INSERT INTO candidates(id, data) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET data = excluded.data";

    /// <summary>The statements that write candidates and merges, prepared once per transaction.</summary>
    public sealed class Writer : IDisposable
    {
        private readonly PreparedStatement _upsert;
        private readonly SqliteCommand _delete;
        private readonly SqliteCommand _unmerge;
        private readonly SqliteCommand _merge;
        private readonly PreparedStatement _index;
        private readonly SqliteCommand _unindex;

        public Writer(SqliteConnection db, SqliteTransaction tx, long nowMs)
        {
            _index = new PreparedStatement(db, UpsertIndexSql);
            _unindex = Command(db, tx, "DELETE FROM candidate_index WHERE id = $id");
            _upsert = new PreparedStatement(db, UpsertRecordSql);
            _delete = Command(db, tx, "DELETE FROM candidates WHERE id = $id");
            _unmerge = Command(db, tx, "DELETE FROM merged_candidates WHERE loser_id = $id");
            _merge = Command(db, tx, "INSERT INTO merged_candidates(loser_id, survivor_id, merged_at) VALUES ($id, $into, $at) ON CONFLICT(loser_id) DO UPDATE SET survivor_id = excluded.survivor_id, merged_at = excluded.merged_at");
            _merge.Parameters["$at"].Value = nowMs;
        }

        /// <param name="wasMerged">The candidate was merged away before: a record that comes back after a merge is live again.</param>
        /// <param name="data">The upserted record as UTF-8 JSON (the change's <see cref="MirrorChange.Candidate"/>).</param>
        /// <param name="index">The upserted record's index entry, when the caller has it already.</param>
        public void Write(MirrorChange change, ReadOnlySpan<byte> data, bool wasMerged, CandidateIndexEntry? index = null)
        {
            switch (change.Kind)
            {
                case CandidateChangeKind.Upserted or CandidateChangeKind.Anonymized:
                    _upsert.Bind(1, change.CandidateId).BindUtf8(2, data).Run();
                    WriteIndex(_index, change.Candidate!, index);
                    if (wasMerged)
                    {
                        Run(_unmerge, ("$id", change.CandidateId));
                    }
                    break;
                case CandidateChangeKind.Deleted:
                    Run(_delete, ("$id", change.CandidateId));
                    Run(_unindex, ("$id", change.CandidateId));
                    break;
                case CandidateChangeKind.Merged:
                    Run(_delete, ("$id", change.CandidateId));
                    Run(_unindex, ("$id", change.CandidateId));
                    Run(_merge, ("$id", change.CandidateId), ("$into", change.MergedInto));
                    break;
            }
        }

        public void Dispose()
        {
            _upsert.Dispose();
            _index.Dispose();
            foreach (var command in new[] { _delete, _unmerge, _merge, _unindex })
            {
                command.Dispose();
            }
        }

        internal static SqliteCommand Command(SqliteConnection db, SqliteTransaction tx, string sql)
        {
            var command = db.CreateCommand();
            command.Transaction = tx;
            command.CommandText = sql;
            foreach (var name in new[] { "$id", "$into", "$at" })
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
