using System.Globalization;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Observability;
using Prometheus;

namespace Greenhouse.Receiver.Sync;

/// <summary>Harvest-mode metrics on the receiver's registry: requests, rate limit, authentication, sweeps, drift, hydration.</summary>
public sealed class HarvestMetrics
{
    private readonly Counter _requests;

    public HarvestMetrics(ReceiverMetrics metrics, HarvestStatus harvest, SyncStatus sync)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(harvest);
        ArgumentNullException.ThrowIfNull(sync);
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        _requests = factory.CreateCounter("greenhouse_harvest_requests_total", "Harvest API calls by operation (snake_case, e.g. get_candidates) and final HTTP status (error when Harvest could not be reached).", "operation", "status");
        // Gauges whose value can be unknown are absent until known (never a 0 that reads as "exhausted" or "refused").
        var unknownUntilSet = new GaugeConfiguration { SuppressInitialValue = true };
        var remaining = factory.CreateGauge("greenhouse_harvest_rate_limit_remaining", "Last X-RateLimit-Remaining Harvest sent; absent until Harvest sent one.", unknownUntilSet);
        var limit = factory.CreateGauge("greenhouse_harvest_rate_limit_limit", "Learned X-RateLimit-Limit; absent until learned.", unknownUntilSet);
        var throttled = factory.CreateCounter("greenhouse_harvest_throttled_responses_total", "429 answers received since start.");
        var authenticated = factory.CreateGauge("greenhouse_harvest_authenticated", "1 when Harvest issued a token that is not refused, 0 when the credentials are refused (unauthorized); absent before the first token request.", unknownUntilSet);
        var tokenExpiry = factory.CreateGauge("greenhouse_harvest_token_expiry_timestamp_seconds", "Unix time the cached token expires; absent while no token is cached.", unknownUntilSet);
        var missingScopes = factory.CreateGauge("greenhouse_harvest_missing_scope", "1 for each OAuth scope Harvest refused.", "scope");
        var lastSweep = factory.CreateGauge("greenhouse_sync_last_sweep_timestamp_seconds", "Unix time of the last successful sweep, by kind.", "kind");
        var drift = factory.CreateCounter("greenhouse_sync_drift_repaired_total", "Records sweeps had to fix (changed, added or deleted) since start.");
        var pending = factory.CreateGauge("greenhouse_hydrations_pending", "Candidates waiting to be fetched from Harvest.");
        var hydrated = factory.CreateCounter("greenhouse_hydrations_total", "Candidates fetched after events or write-backs since start.");
        harvest.RequestCompleted += (_, e) =>
            _requests.WithLabels(OperationLabel(e.Operation), e.StatusCode is { } code ? ((int)code).ToString(CultureInfo.InvariantCulture) : "error").Inc();
        var reportedScopes = new HashSet<string>(StringComparer.Ordinal);
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            var h = harvest.Current;
            SetOrUnpublish(remaining, h.RateLimitRemaining);
            SetOrUnpublish(limit, h.RateLimitLimit);
            throttled.IncTo(h.ThrottledResponses);
            SetOrUnpublish(authenticated, h.Authenticated is { } ok ? (ok ? 1 : 0) : null);
            SetOrUnpublish(tokenExpiry, h.TokenExpiresAt?.ToUnixTimeSeconds());
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

    /// <summary>Harvest operations ("get candidates") as snake_case label values ("get_candidates").</summary>
    public static string OperationLabel(string operation) =>
        string.Join('_', (operation ?? "").Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    private static void SetOrUnpublish(Gauge gauge, double? value)
    {
        if (value is { } known)
        {
            gauge.Set(known);
        }
        else
        {
            gauge.WithLabels([]).Unpublish(); // the unlabelled series
        }
    }
}
