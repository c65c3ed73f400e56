using Google.Protobuf.WellKnownTypes;
using Greenhouse.Contracts;
using Greenhouse.Receiver.Mirror;
using Greenhouse.Harvest;
using Greenhouse.Receiver.Observability;
using Greenhouse.Receiver.Storage;
using Greenhouse.Receiver.Sync;
using Greenhouse.Receiver.Webhooks;
using Grpc.Core;
using V1 = Greenhouse.Contracts.Receiver.V1;

namespace Greenhouse.Receiver.Api;

/// <summary>greenhouse.receiver.v1.SyncHealth: what the operator aggregates into the resource's status.</summary>
public sealed class SyncHealthApi : V1.SyncHealth.SyncHealthBase
{
    private readonly ReceiverMetrics _metrics;
    private readonly InboxStatistics _inbox;
    private readonly CandidateMirror _mirror;
    private readonly WebhookSecretsDirectory _secrets;
    private readonly TimeProvider _time;
    private readonly SyncStatus _sync;
    private readonly HarvestStatus? _harvest;

    public SyncHealthApi(ReceiverMetrics metrics, InboxStatistics inbox, CandidateMirror mirror, WebhookSecretsDirectory secrets, TimeProvider time,
        SyncStatus sync, IServiceProvider services)
    {
        _sync = sync;
        // Registered in Harvest mode only.
        _harvest = (HarvestStatus?)services?.GetService(typeof(HarvestStatus));
        _metrics = metrics;
        _inbox = inbox;
        _mirror = mirror;
        _secrets = secrets;
        _time = time;
    }

    public override Task<V1.SyncHealthReport> GetSyncHealth(V1.GetSyncHealthRequest request, ServerCallContext context)
    {
        var snapshot = _inbox.Read() ?? throw new RpcException(new Status(StatusCode.Unavailable, "the inbox database cannot be read"));
        var report = new V1.SyncHealthReport
        {
            EventsAccepted = _metrics.Received(WebhookResult.Accepted),
            EventsDuplicate = _metrics.Received(WebhookResult.Duplicate),
            EventsIgnored = _metrics.Received(WebhookResult.Ignored) + _metrics.Received(WebhookResult.IgnoredUnverifiedPing),
            EventsRejected = _metrics.Received(WebhookResult.RejectedSignature) + _metrics.Received(WebhookResult.RejectedMalformed) + _metrics.Received(WebhookResult.RejectedTooLarge),
            EventsUnavailable = _metrics.Received(WebhookResult.Unavailable),
            EventsProcessed = _metrics.Processed,
            EventsFailed = _metrics.Failed,
            PendingEvents = snapshot.Pending,
            DeadLetters = snapshot.DeadLetters,
            Candidates = _mirror.Count,
            LagSeconds = snapshot.OldestPendingAt is { } oldest ? Math.Max(0, (_time.GetUtcNow() - oldest).TotalSeconds) : 0,
            LastChangeNumber = _mirror.LastChangeNumber,
            LastVerifiedSlot = (V1.SecretSlot)(int)_metrics.LastVerifiedSlot,
            VerifiedCurrent = _metrics.VerifiedCurrent,
            VerifiedPrevious = _metrics.VerifiedPrevious,
            SecretsGeneration = _secrets.Generation,
            SecretsLoadedAt = Timestamp.FromDateTimeOffset(_secrets.LoadedAt),
            HarvestEnabled = _harvest is not null,
            CurrentSecretFingerprint = SecretFingerprint.Of(_secrets.Current.Current),
        };
        if (_harvest is not null)
        {
            AddHarvest(report, _harvest.Current, _sync.Current, _time.GetUtcNow());
        }
        if (snapshot.LastReceivedAt is { } received)
        {
            report.LastEventAt = Timestamp.FromDateTimeOffset(received);
        }
        if (_metrics.LastProcessedAt is { } processed)
        {
            report.LastProcessedAt = Timestamp.FromDateTimeOffset(processed);
        }
        if (_metrics.LastVerifiedAt is { } verified)
        {
            report.LastVerifiedAt = Timestamp.FromDateTimeOffset(verified);
        }
        if (_metrics.LastVerifiedCurrentAt is { } verifiedCurrent)
        {
            report.LastVerifiedCurrentAt = Timestamp.FromDateTimeOffset(verifiedCurrent);
        }
        if (_metrics.LastVerifiedPreviousAt is { } verifiedPrevious)
        {
            report.LastVerifiedPreviousAt = Timestamp.FromDateTimeOffset(verifiedPrevious);
        }
        return Task.FromResult(report);
    }

    private static void AddHarvest(V1.SyncHealthReport report, HarvestStatusSnapshot h, SyncStatusSnapshot s, DateTimeOffset now)
    {
        var harvest = new V1.HarvestStatus
        {
            Authenticated = h.Authenticated == true,
            Unauthorized = h.Authenticated == false,
            LastError = h.LastError ?? "",
            UsingPreviousClientSecret = h.UsingPreviousClientSecret,
            RateLimitLimit = h.RateLimitLimit ?? 0,
            RateLimitRemaining = h.RateLimitRemaining ?? 0,
            ThrottledResponses = h.ThrottledResponses,
        };
        harvest.MissingScopes.Add(h.MissingScopes);
        if (h.LastErrorAt is { } errorAt)
        {
            harvest.LastErrorAt = Timestamp.FromDateTimeOffset(errorAt);
        }
        if (h.LastSuccessAt is { } successAt)
        {
            harvest.LastSuccessAt = Timestamp.FromDateTimeOffset(successAt);
        }
        if (h.TokenExpiresAt is { } expires)
        {
            harvest.TokenExpiresAt = Timestamp.FromDateTimeOffset(expires);
        }
        report.Harvest = harvest;
        if (s.LastSweepAt is { } last)
        {
            report.LastSweepAt = Timestamp.FromDateTimeOffset(last);
            report.SweepLagSeconds = Math.Max(0, (now - last).TotalSeconds);
        }
        if (s.LastFullSweepAt is { } full)
        {
            report.LastFullSweepAt = Timestamp.FromDateTimeOffset(full);
        }
        if (s.Watermark is { } watermark)
        {
            report.SweepWatermark = Timestamp.FromDateTimeOffset(watermark);
        }
        report.DriftRepaired = s.DriftRepaired;
        report.LastSweepError = s.LastSweepError ?? "";
        report.HydrationsPending = s.HydrationsPending;
        report.LastHydrationError = s.LastHydrationError ?? "";
    }
}
