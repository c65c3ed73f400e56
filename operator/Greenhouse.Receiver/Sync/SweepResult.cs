namespace Greenhouse.Receiver.Sync;

/// <summary>What one sweep did.</summary>
/// <param name="Examined">Candidates Harvest listed.</param>
/// <param name="Repaired">Records the sweep had to fix (changed, added or deleted); not counted on the first full sweep, which loads the mirror.</param>
/// <param name="Deleted">Mirror records removed because Harvest no longer lists them (full sweeps only).</param>
public sealed record SweepResult(SweepKind Kind, int Examined, int Repaired, int Deleted, TimeSpan Elapsed);
