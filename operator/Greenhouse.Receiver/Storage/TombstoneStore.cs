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

    /// <summary>The statements that record what changes mean for the tombstones, prepared once per transaction (not once per change).</summary>
    internal sealed class Writer : IDisposable
    {
        private readonly PreparedStatement _set;
        private readonly PreparedStatement _clear;

        public Writer(SqliteConnection db, long nowMs)
        {
            _set = new PreparedStatement(db, "INSERT INTO tombstones(candidate_id, reason, at) VALUES (?1, ?2, ?3) ON CONFLICT(candidate_id) DO UPDATE SET reason = excluded.reason, at = excluded.at")
                .Bind(3, nowMs);
            _clear = new PreparedStatement(db, "DELETE FROM tombstones WHERE candidate_id = ?1");
        }

        /// <summary>Records what <paramref name="change"/> means for the tombstones, in the transaction that writes it.</summary>
        public void Write(MirrorChange change)
        {
            ArgumentNullException.ThrowIfNull(change);
            if (ReasonOf(change) is { } reason)
            {
                _set.Bind(1, change.CandidateId).Bind(2, reason).Run();
            }
            else
            {
                // An upsert reaches the database for a tombstoned id only from a Harvest read: the candidate is back.
                _clear.Bind(1, change.CandidateId).Run();
            }
        }

        public void Dispose()
        {
            _set.Dispose();
            _clear.Dispose();
        }
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
