namespace Greenhouse.Receiver.Sync;

/// <summary>Harvest sync state at one moment.</summary>
/// <param name="LastSweepAt">End of the last successful sweep of either kind (a full sweep covers the incremental one).</param>
/// <param name="LastFullSweepAt">End of the last successful full sweep.</param>
/// <param name="Watermark">Latest Harvest <c>updated_at</c> the sweeps have seen (persisted).</param>
/// <param name="LastSweepError">Why the last sweep failed; null after a success.</param>
/// <param name="LastHydrationError">Why the last hydration failed; null after a success.</param>
/// <param name="DriftRepaired">Records sweeps had to fix (changed or deleted) since start.</param>
/// <param name="Hydrated">Candidates fetched after events since start.</param>
/// <param name="HydrationFailures">Candidate fetches that failed and were postponed, since start.</param>
/// <param name="HydrationsPending">Candidates waiting to be fetched.</param>
public sealed record SyncStatusSnapshot(
    DateTimeOffset? LastSweepAt,
    DateTimeOffset? LastFullSweepAt,
    DateTimeOffset? Watermark,
    string? LastSweepError,
    string? LastHydrationError,
    long DriftRepaired,
    long Hydrated,
    long HydrationFailures,
    long HydrationsPending);
