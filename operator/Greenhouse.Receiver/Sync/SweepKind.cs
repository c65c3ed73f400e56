namespace Greenhouse.Receiver.Sync;

public enum SweepKind
{
    /// <summary>Candidates updated since the watermark minus the overlap.</summary>
    Incremental,

    /// <summary>Every candidate, and deletions (mirror ids Harvest no longer lists).</summary>
    Full,
}
