namespace Greenhouse.Receiver.Sync;

/// <summary>What Harvest sync has done in this process, for SyncHealth and metrics (a DI singleton).</summary>
public sealed class SyncStatus
{
    private readonly Lock _gate = new();
    private SyncStatusSnapshot _current = new(null, null, null, null, null, 0, 0, 0, 0);

    public SyncStatusSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    internal void SweepFinished(SweepKind kind, DateTimeOffset at, DateTimeOffset? watermark, int repaired)
    {
        lock (_gate)
        {
            _current = _current with
            {
                LastSweepAt = at,
                LastFullSweepAt = kind == SweepKind.Full ? at : _current.LastFullSweepAt,
                Watermark = watermark ?? _current.Watermark,
                LastSweepError = null,
                DriftRepaired = _current.DriftRepaired + repaired,
            };
        }
    }

    internal void SweepFailed(string error)
    {
        lock (_gate)
        {
            _current = _current with { LastSweepError = error };
        }
    }

    internal void Restored(DateTimeOffset? lastIncremental, DateTimeOffset? lastFull, DateTimeOffset? watermark)
    {
        lock (_gate)
        {
            _current = _current with { LastSweepAt = lastIncremental, LastFullSweepAt = lastFull, Watermark = watermark };
        }
    }

    internal void Hydrated(int candidates, long pending)
    {
        lock (_gate)
        {
            _current = _current with { Hydrated = _current.Hydrated + candidates, HydrationsPending = pending, LastHydrationError = null };
        }
    }

    internal void HydrationFailed(int candidates, long pending, string error)
    {
        lock (_gate)
        {
            _current = _current with { HydrationFailures = _current.HydrationFailures + candidates, HydrationsPending = pending, LastHydrationError = error };
        }
    }

    internal void Pending(long pending)
    {
        lock (_gate)
        {
            _current = _current with { HydrationsPending = pending };
        }
    }
}
