namespace Greenhouse.Receiver.Mirror;

/// <summary>One change an event makes to the mirror; <see cref="Candidate"/> is the record after it (upserted, anonymized).</summary>
public sealed record MirrorChange(CandidateChangeKind Kind, long CandidateId, CandidateRecord? Candidate, long? MergedInto = null);
