namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// One change an event makes to the mirror; <see cref="Candidate"/> is the record after it
/// (upserted, anonymized). <see cref="ChangeNumber"/> is set once the change is in the change log.
/// </summary>
public sealed record MirrorChange(CandidateChangeKind Kind, long CandidateId, CandidateRecord? Candidate, long? MergedInto = null)
{
    public long ChangeNumber { get; init; }

    /// <summary>When the change was written to the change log (set when read back from it).</summary>
    public DateTimeOffset ChangedAt { get; init; }
}
