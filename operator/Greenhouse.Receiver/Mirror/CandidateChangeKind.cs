namespace Greenhouse.Receiver.Mirror;

/// <summary>Kinds of change-log entries; the numbers match greenhouse.receiver.v1.ChangeKind.</summary>
public enum CandidateChangeKind
{
    Upserted = 1,
    Deleted = 2,
    Merged = 3,
    Anonymized = 4,
}
