using Greenhouse.Receiver.Webhooks;
using Prometheus;

namespace Greenhouse.Receiver.Observability;

/// <summary>
/// The receiver's Prometheus metrics (one registry per receiver instance, so in-process tests
/// and benchmarks do not share counters) and the counters SyncHealth reports.
/// </summary>
public sealed class ReceiverMetrics
{
    private static readonly string[] ResultLabels =
        ["accepted", "duplicate", "ignored", "rejected_signature", "rejected_malformed", "rejected_too_large", "unavailable"];

    private readonly Counter _received;
    private readonly Counter _processed;
    private readonly Histogram _ingestSeconds;
    private readonly long[] _byResult = new long[ResultLabels.Length];
    private long _processedCount;
    private long _failedCount;
    private long _verifiedCurrent;
    private long _verifiedPrevious;
    private long _lastVerifiedSlot;
    private long _lastVerifiedAtTicks;
    private long _lastVerifiedCurrentAtTicks;
    private long _lastVerifiedPreviousAtTicks;
    private long _lastProcessedAtTicks;

    public ReceiverMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _received = factory.CreateCounter("greenhouse_webhooks_received_total", "Webhook deliveries by action and result.", "action", "result");
        _processed = factory.CreateCounter("greenhouse_events_processed_total", "Stored events processed, by action and outcome (applied, recorded, retried, dead_lettered).", "action", "outcome");
        _ingestSeconds = factory.CreateHistogram("greenhouse_webhook_ingest_seconds", "Time from request start to answer for webhook deliveries.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        Candidates = factory.CreateGauge("greenhouse_candidates", "Candidates in the mirror.");
        InboxPending = factory.CreateGauge("greenhouse_inbox_pending", "Stored events not yet processed.");
        SyncLag = factory.CreateGauge("greenhouse_sync_lag_seconds", "Age of the oldest unprocessed event.");
        DeadLetters = factory.CreateGauge("greenhouse_dead_letters", "Events given up on, kept in the dead-letter table.");
        // Process and runtime metrics (CPU, memory, GC, threads) for this registry.
        DotNetStats.Register(Registry);
    }

    public CollectorRegistry Registry { get; }
    public Gauge Candidates { get; }
    public Gauge InboxPending { get; }
    public Gauge SyncLag { get; }
    public Gauge DeadLetters { get; }

    public long Received(WebhookResult result) => Interlocked.Read(ref _byResult[(int)result]);
    public long Processed => Interlocked.Read(ref _processedCount);
    public long Failed => Interlocked.Read(ref _failedCount);
    public long VerifiedCurrent => Interlocked.Read(ref _verifiedCurrent);
    public long VerifiedPrevious => Interlocked.Read(ref _verifiedPrevious);
    public SecretSlotMatch LastVerifiedSlot => (SecretSlotMatch)Interlocked.Read(ref _lastVerifiedSlot);
    public DateTimeOffset? LastVerifiedAt => Ticks(ref _lastVerifiedAtTicks);
    public DateTimeOffset? LastVerifiedCurrentAt => Ticks(ref _lastVerifiedCurrentAtTicks);
    public DateTimeOffset? LastVerifiedPreviousAt => Ticks(ref _lastVerifiedPreviousAtTicks);
    public DateTimeOffset? LastProcessedAt => Ticks(ref _lastProcessedAtTicks);

    public void RecordDelivery(string actionLabel, WebhookResult result, TimeSpan elapsed)
    {
        _received.WithLabels(actionLabel, ResultLabels[(int)result]).Inc();
        _ingestSeconds.Observe(elapsed.TotalSeconds);
        Interlocked.Increment(ref _byResult[(int)result]);
    }

    public void RecordVerified(SecretSlotMatch slot, DateTimeOffset at)
    {
        Interlocked.Increment(ref slot == SecretSlotMatch.Current ? ref _verifiedCurrent : ref _verifiedPrevious);
        Interlocked.Exchange(ref _lastVerifiedSlot, (long)slot);
        Interlocked.Exchange(ref _lastVerifiedAtTicks, at.UtcTicks);
        Interlocked.Exchange(ref slot == SecretSlotMatch.Current ? ref _lastVerifiedCurrentAtTicks : ref _lastVerifiedPreviousAtTicks, at.UtcTicks);
    }

    public void RecordProcessed(string action, string outcome, DateTimeOffset at)
    {
        _processed.WithLabels(WebhookActions.Label(action), outcome).Inc();
        if (outcome is "applied" or "recorded")
        {
            Interlocked.Increment(ref _processedCount);
            Interlocked.Exchange(ref _lastProcessedAtTicks, at.UtcTicks);
        }
        else
        {
            Interlocked.Increment(ref _failedCount);
        }
    }

    private static DateTimeOffset? Ticks(ref long field)
    {
        var ticks = Interlocked.Read(ref field);
        return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}
