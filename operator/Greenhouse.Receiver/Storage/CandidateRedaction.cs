using Greenhouse.Receiver.Mirror;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Storage;

/// <summary>
/// When a candidate is deleted, merged away or anonymised, what the database still holds about the
/// person is dropped in the same transaction: the data of the candidate's earlier change-log entries
/// (number, kind and time stay, so watchers keep their positions) and the bodies of its dead
/// letters. With <c>secure_delete</c> on (<see cref="ReceiverDatabase"/>) the freed bytes are
/// zeroed in the page; the WAL's copies go at the next truncating checkpoint
/// (<see cref="DatabaseMaintenance.ScrubWalAsync"/>), and the raw bodies in the inbox log are erased once processed.
/// </summary>
public static class CandidateRedaction
{
    public static bool Removes(CandidateChangeKind kind) =>
        kind is CandidateChangeKind.Deleted or CandidateChangeKind.Merged or CandidateChangeKind.Anonymized;

    /// <summary>Runs in the transaction that writes <paramref name="change"/> (already numbered).</summary>
    internal static void Apply(SqliteConnection db, SqliteTransaction tx, MirrorChange change)
    {
        if (!Removes(change.Kind))
        {
            return;
        }
        ChangeLog.Redact(db, tx, change.CandidateId, change.ChangeNumber);
        InboxStore.RedactDeadLetters(db, tx, change.CandidateId);
    }
}
