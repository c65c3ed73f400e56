using System.Globalization;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Sync;
using Prometheus;

namespace Greenhouse.Receiver.Observability;

/// <summary>Harvest-mode metrics on the receiver's registry: requests, rate limit, authentication, sweeps, drift, hydration.</summary>
public sealed class HarvestMetrics
{
    private readonly Counter _requests;

    public HarvestMetrics(ReceiverMetrics metrics, HarvestStatus harvest, SyncStatus sync, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(harvest);
        ArgumentNullException.ThrowIfNull(sync);
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        _requests = factory.CreateCounter("greenhouse_harvest_requests_total", "Harvest API calls by operation and final HTTP status (error when Harvest could not be reached).", "operation", "status");
        var remaining = factory.CreateGauge("greenhouse_harvest_rate_limit_remaining", "Last X-RateLimit-Remaining Harvest sent.");
        var limit = factory.CreateGauge("greenhouse_harvest_rate_limit_limit", "Learned X-RateLimit-Limit.");
        var throttled = factory.CreateCounter("greenhouse_harvest_throttled_responses_total", "429 answers received since start.");
        var authenticated = factory.CreateGauge("greenhouse_harvest_authenticated", "1 when Harvest issued a token that is not refused, 0 when the credentials are refused (unauthorized).");
        var tokenExpiry = factory.CreateGauge("greenhouse_harvest_token_expiry_timestamp_seconds", "Unix time the cached token expires.");
        var missingScopes = factory.CreateGauge("greenhouse_harvest_missing_scope", "1 for each OAuth scope Harvest refused.", "scope");
        var lastSweep = factory.CreateGauge("greenhouse_sync_last_sweep_timestamp_seconds", "Unix time of the last successful sweep, by kind.", "kind");
        var sweepLag = factory.CreateGauge("greenhouse_sync_sweep_lag_seconds", "Seconds since the last successful sweep.");
        var drift = factory.CreateCounter("greenhouse_sync_drift_repaired_total", "Records sweeps had to fix (changed, added or deleted) since start.");
        var pending = factory.CreateGauge("greenhouse_hydrations_pending", "Candidates waiting to be fetched from Harvest.");
        var hydrated = factory.CreateCounter("greenhouse_hydrations_total", "Candidates fetched after events or write-backs since start.");
        harvest.RequestCompleted += (_, e) =>
            _requests.WithLabels(e.Operation, e.StatusCode is { } code ? ((int)code).ToString(CultureInfo.InvariantCulture) : "error").Inc();
        var reportedScopes = new HashSet<string>(StringComparer.Ordinal);
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            var h = harvest.Current;
            remaining.Set(h.RateLimitRemaining ?? 0);
            limit.Set(h.RateLimitLimit ?? 0);
            throttled.IncTo(h.ThrottledResponses);
            authenticated.Set(h.Authenticated == true ? 1 : 0);
            tokenExpiry.Set(h.TokenExpiresAt?.ToUnixTimeSeconds() ?? 0);
            lock (reportedScopes)
            {
                foreach (var scope in reportedScopes.Except(h.MissingScopes).ToList())
                {
                    missingScopes.WithLabels(scope).Set(0);
                }
                foreach (var scope in h.MissingScopes)
                {
                    missingScopes.WithLabels(scope).Set(1);
                    reportedScopes.Add(scope);
                }
            }
            var s = sync.Current;
            if (s.LastSweepAt is { } last)
            {
                lastSweep.WithLabels("any").Set(last.ToUnixTimeSeconds());
                sweepLag.Set(Math.Max(0, (time.GetUtcNow() - last).TotalSeconds));
            }
            if (s.LastFullSweepAt is { } full)
            {
                lastSweep.WithLabels("full").Set(full.ToUnixTimeSeconds());
            }
            drift.IncTo(s.DriftRepaired);
            pending.Set(s.HydrationsPending);
            hydrated.IncTo(s.Hydrated);
        });
    }
}
