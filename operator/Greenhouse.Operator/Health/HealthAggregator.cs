using Google.Protobuf.WellKnownTypes;
using Greenhouse.Contracts.Receiver.V1;
using Greenhouse.Operator.Api;
using ApiHarvestStatus = Greenhouse.Operator.Api.HarvestStatus;

namespace Greenhouse.Operator.Health;

/// <summary>
/// Pure aggregation of one polling round into a <see cref="HealthSummary"/>: counters summed over pods,
/// the largest lag, the latest times, the smallest rate-limit budget; times coarsened to the minute.
/// </summary>
public static class HealthAggregator
{
    public static HealthSummary Summarize(ReceiverHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        var answered = health.Pods.Where(p => p.Report is not null).Select(p => p.Report!).ToList();
        var unreachable = health.Pods.Where(p => p.Report is null).Select(p => $"{p.Pod}: {p.Error ?? "no answer"}").Order(StringComparer.Ordinal).ToList();
        if (answered.Count == 0)
        {
            return new HealthSummary { PolledAt = health.PolledAt, Pods = health.Pods.Count, Unreachable = unreachable };
        }

        var sync = new SyncStatus
        {
            LastEventAt = Latest(answered.Select(r => r.LastEventAt)),
            LastResyncAt = Latest(answered.Select(r => r.LastSweepAt)),
            LastFullResyncAt = Latest(answered.Select(r => r.LastFullSweepAt)),
            Candidates = answered.Max(r => r.Candidates),
            LagSeconds = (long)Math.Floor(answered.Max(r => r.LagSeconds)),
            PendingEvents = answered.Sum(r => r.PendingEvents),
            EventsAccepted = answered.Sum(r => r.EventsAccepted),
            EventsDuplicate = answered.Sum(r => r.EventsDuplicate),
            EventsRejected = answered.Sum(r => r.EventsRejected),
            EventsFailed = answered.Sum(r => r.DeadLetters),
            DriftRepaired = answered.Sum(r => r.DriftRepaired),
        };

        var withHarvest = answered.Where(r => r.HarvestEnabled && r.Harvest is not null).ToList();
        ApiHarvestStatus? harvest = null;
        if (withHarvest.Count > 0)
        {
            var limits = withHarvest.Where(r => r.Harvest.RateLimitLimit > 0).ToList();
            var missing = withHarvest.SelectMany(r => r.Harvest.MissingScopes).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var lastError = withHarvest.Select(r => r.Harvest.LastError).FirstOrDefault(e => !string.IsNullOrEmpty(e));
            harvest = new ApiHarvestStatus
            {
                Authenticated = withHarvest.All(r => r.Harvest.Authenticated),
                TokenExpiresAt = Earliest(withHarvest.Select(r => r.Harvest.TokenExpiresAt)),
                RateLimit = limits.Count == 0 ? null : new RateLimitStatus { Limit = limits.Max(r => r.Harvest.RateLimitLimit), Remaining = limits.Min(r => r.Harvest.RateLimitRemaining) },
                MissingScopes = missing.Count == 0 ? null : missing,
                LastError = string.IsNullOrEmpty(lastError) ? null : lastError,
            };
        }

        var sweepError = answered.Select(r => r.LastSweepError).FirstOrDefault(e => !string.IsNullOrEmpty(e));
        return new HealthSummary
        {
            PolledAt = health.PolledAt,
            Pods = health.Pods.Count,
            Unreachable = unreachable,
            Sync = sync,
            LastSweepSucceededAt = answered.Where(r => r.LastSweepAt is not null).Select(r => ToSecond(r.LastSweepAt.ToDateTime())).DefaultIfEmpty().Max() is { Ticks: > 0 } last ? last : null,
            Harvest = harvest,
            HarvestUnauthorized = withHarvest.Any(r => r.Harvest.Unauthorized),
            UsingPreviousClientSecret = withHarvest.Any(r => r.Harvest.UsingPreviousClientSecret),
            Throttled = withHarvest.Any(r => r.Harvest.ThrottledResponses > 0),
            LastSweepError = string.IsNullOrEmpty(sweepError) ? null : sweepError,
            DeadLetters = answered.Sum(r => r.DeadLetters),
            LoadedSecrets = answered.Select(r => r.CurrentSecretFingerprint).Where(f => f.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            VerifiedSecrets = answered
                .Where(r => r.CurrentSecretFingerprint.Length > 0 && r.LastVerifiedCurrentAt is not null && r.SecretsLoadedAt is not null
                    && r.LastVerifiedCurrentAt.ToDateTimeOffset() >= r.SecretsLoadedAt.ToDateTimeOffset())
                .Select(r => r.CurrentSecretFingerprint).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>Truncates to the minute: a status that moves by seconds would be written on every poll.</summary>
    public static DateTime ToMinute(DateTime time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);

    private static DateTime ToSecond(DateTime time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    private static DateTime? Latest(IEnumerable<Timestamp?> times)
    {
        var values = times.Where(t => t is not null).Select(t => t!.ToDateTime()).ToList();
        return values.Count == 0 ? null : ToMinute(values.Max());
    }

    private static DateTime? Earliest(IEnumerable<Timestamp?> times)
    {
        var values = times.Where(t => t is not null).Select(t => t!.ToDateTime()).ToList();
        return values.Count == 0 ? null : ToMinute(values.Min());
    }
}
