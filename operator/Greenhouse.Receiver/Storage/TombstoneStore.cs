using System.Collections.Concurrent;
using Greenhouse.Receiver.Mirror;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// Candidate ids that were deleted or merged away (table <c>tombstones</c>, kept in memory for the
/// processor's check). Greenhouse never reuses a deleted candidate id, so a later webhook upsert
/// for one is a late retry or a replay (the event id is not signed) and must not bring the person
/// back. Only a Harvest read that returns the candidate removes its tombstone. Tombstones hold ids
/// only and are never pruned.
/// </summary>
public sealed class TombstoneStore
{
    public const string Deleted = "deleted";
    public const string MergedAway = "merged";

    private readonly ConcurrentDictionary<long, string> _ids = new();

    public int Count => _ids.Count;

    /// <summary>Why the candidate is tombstoned (<see cref="Deleted"/> or <see cref="MergedAway"/>), or null.</summary>
    public string? ReasonFor(long candidateId) => _ids.TryGetValue(candidateId, out var reason) ? reason : null;

    internal void Load(SqliteConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _ids.Clear();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT candidate_id, reason FROM tombstones";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            _ids[reader.GetInt64(0)] = reader.GetString(1);
        }
    }

    /// <summary>Records what <paramref name="change"/> means for the tombstones, in the transaction that writes it.</summary>
    internal static void Write(SqliteConnection db, SqliteTransaction tx, MirrorChange change, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(change);
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.Parameters.AddWithValue("$id", change.CandidateId);
        if (ReasonOf(change) is { } reason)
        {
            command.CommandText = "INSERT INTO tombstones(candidate_id, reason, at) VALUES ($id, $reason, $at) ON CONFLICT(candidate_id) DO UPDATE SET reason = excluded.reason, at = excluded.at";
            command.Parameters.AddWithValue("$reason", reason);
            command.Parameters.AddWithValue("$at", nowMs);
        }
        else
        {
            // An upsert reaches the database for a tombstoned id only from a Harvest read: the candidate is back.
            command.CommandText = "DELETE FROM tombstones WHERE candidate_id = $id";
        }
        command.ExecuteNonQuery();
    }

    /// <summary>After the commit of <paramref name="change"/>.</summary>
    public void Published(MirrorChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (ReasonOf(change) is { } reason)
        {
            _ids[change.CandidateId] = reason;
        }
        else
        {
            _ids.TryRemove(change.CandidateId, out _);
        }
    }

    public static string? ReasonOf(MirrorChange change) => change?.Kind switch
    {
        CandidateChangeKind.Deleted => Deleted,
        CandidateChangeKind.Merged => MergedAway,
        _ => null,
    };
}
