namespace Greenhouse.Receiver.Configuration;

/// <summary>Harvest mode settings (<c>Harvest:*</c>, <c>Sync:*</c>); present only when <c>Harvest:Enabled=true</c>.</summary>
public sealed record HarvestSyncOptions
{
    /// <summary>Folder with client_id, client_secret and optionally previous_client_secret (hot-reloaded).</summary>
    public required string CredentialsDirectory { get; init; }
    public required long SyncUserId { get; init; }
    public required Uri BaseUrl { get; init; }
    public required Uri TokenUrl { get; init; }
    public required TimeSpan ResyncInterval { get; init; }
    public required TimeSpan FullResyncInterval { get; init; }
    /// <summary>How far before the watermark an incremental sweep starts, for clock skew and late commits.</summary>
    public required TimeSpan Overlap { get; init; }
    /// <summary>A candidate is fetched this long after its last event (more events in between share the fetch).</summary>
    public required TimeSpan HydrationDebounce { get; init; }
    /// <summary>Upper bound from the first event to the fetch, however long the burst lasts.</summary>
    public required TimeSpan HydrationMaxDelay { get; init; }
}
