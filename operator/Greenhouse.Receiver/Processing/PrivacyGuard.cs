using Greenhouse.Receiver.Mirror;

namespace Greenhouse.Receiver.Processing;

/// <summary>
/// Applied to what a webhook would change, before it is written: an upsert of a tombstoned
/// (deleted or merged-away) candidate is dropped, and an upsert of an anonymised candidate keeps
/// its anonymised fields cleared. Webhook bodies are not trusted to bring data back: a late retry of
/// an update sent before the delete, or a replay with a new event id (the id is not signed), carries
/// the old values. Harvest reads do not pass through here (only they may revive a candidate).
/// </summary>
public static class PrivacyGuard
{
    /// <param name="changes">What the interpreter made of one event.</param>
    /// <param name="tombstoneReason">Why a candidate is tombstoned (including by earlier events of the same pass), or null.</param>
    /// <param name="ignored">Receives (candidate id, reason) of each dropped upsert.</param>
    public static IReadOnlyList<MirrorChange> Filter(IReadOnlyList<MirrorChange> changes, Func<long, string?> tombstoneReason, ICollection<(long CandidateId, string Reason)> ignored)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(tombstoneReason);
        ArgumentNullException.ThrowIfNull(ignored);
        List<MirrorChange>? kept = null;
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            var result = change;
            if (change.Kind == CandidateChangeKind.Upserted)
            {
                if (tombstoneReason(change.CandidateId) is { } reason)
                {
                    ignored.Add((change.CandidateId, reason));
                    result = null;
                }
                else if (change.Candidate is { AnonymizedFields.Count: > 0 } candidate)
                {
                    result = change with { Candidate = CandidateAnonymization.Apply(candidate, candidate.AnonymizedFields) };
                }
            }
            if (!ReferenceEquals(result, change) && kept is null)
            {
                kept = [.. changes.Take(i)];
            }
            if (result is not null)
            {
                kept?.Add(result);
            }
        }
        return kept ?? changes;
    }
}
