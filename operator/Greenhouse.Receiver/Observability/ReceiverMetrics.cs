using System.Reflection;
using Prometheus;

namespace Greenhouse.Receiver.Observability;

/// <summary>
/// The receiver's Prometheus metrics (one registry per receiver instance, so in-process tests
/// and benchmarks do not share counters) and the counters SyncHealth reports.
/// </summary>
public sealed class ReceiverMetrics
{
    private static readonly string[] ResultLabels =
        ["accepted", "duplicate", "ignored", "rejected_signature", "rejected_malformed", "rejected_too_large", "unavailable", "ignored_unverified_ping"];

    private readonly Counter _received;
    private readonly Counter _processed;
    private readonly Counter _verified;
    private readonly Counter.Child _verifiedCurrentChild;
    private readonly Counter.Child _verifiedPreviousChild;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Action, WebhookResult Result), Counter.Child> _receivedChildren = new();
    private readonly Histogram _ingestSeconds;
    private readonly Counter _ignoredUpdates;
    private readonly Histogram _commitSeconds;
    private readonly Histogram _syncSeconds;
    private readonly Histogram _commitDeliveries;
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
        // No exemplars: the receiver records no traces, and looking for one costs every delivery's observation.
        factory.ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = static (_, _) => Exemplar.None };
        _received = factory.CreateCounter("greenhouse_webhooks_received_total", "Webhook deliveries by action and result.", "action", "result");
        _processed = factory.CreateCounter("greenhouse_events_processed_total", "Stored events processed, by action and outcome (applied, recorded, retried, dead_lettered).", "action", "outcome");
        _ingestSeconds = factory.CreateHistogram("greenhouse_webhook_ingest_seconds", "Time from request start to answer for webhook deliveries.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        _verified = factory.CreateCounter("greenhouse_webhook_signatures_verified_total", "Deliveries whose signature verified, by the secret slot that verified them (current, previous: a rotation still in progress).", "slot");
        _verifiedCurrentChild = _verified.WithLabels("current");
        _verifiedPreviousChild = _verified.WithLabels("previous");
        _ignoredUpdates = factory.CreateCounter("greenhouse_candidate_updates_ignored_total",
            "Webhook updates not applied because the candidate was deleted or merged away (tombstoned), by reason.", "reason");
        // Where a delivery's wait for its 200 goes: the group commit it was part of, then the disk flush that made it durable.
        _commitSeconds = factory.CreateHistogram("greenhouse_inbox_commit_seconds", "Duration of one group commit of webhook deliveries (the write of their records to the inbox log, before the fsync).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 2, 14) });
        _syncSeconds = factory.CreateHistogram("greenhouse_inbox_fsync_seconds", "Duration of one durability cycle of the inbox (fdatasync of the inbox log); deliveries are answered after it. A slow volume shows here first.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 2, 14) });
        _commitDeliveries = factory.CreateHistogram("greenhouse_inbox_commit_deliveries", "Deliveries per group commit.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 10) });
        Candidates = factory.CreateGauge("greenhouse_candidates", "Candidates in the mirror.");
        InboxPending = factory.CreateGauge("greenhouse_inbox_pending", "Stored events not yet processed.");
        OldestPendingAge = factory.CreateGauge("greenhouse_inbox_oldest_pending_age_seconds", "Age of the oldest stored event not yet processed; 0 when none waits.");
        DeadLetters = factory.CreateGauge("greenhouse_dead_letters", "Events given up on, kept in the dead-letter table.");
        factory.CreateGauge("greenhouse_receiver_build_info", "Always 1; the labels name the receiver's version and .NET runtime.", "version", "runtime")
            .WithLabels(Version(), Environment.Version.ToString()).Set(1);
        // Process and runtime metrics (CPU, memory, GC, threads) for this registry.
        DotNetStats.Register(Registry);
    }

    public CollectorRegistry Registry { get; }
    public Gauge Candidates { get; }
    public Gauge InboxPending { get; }
    public Gauge OldestPendingAge { get; }
    public Gauge DeadLetters { get; }

    public long Received(WebhookResult result) => Interlocked.Read(ref _byResult[(int)result]);

    /// <summary>One group commit of the inbox writer.</summary>
    public void RecordInboxCommit(TimeSpan duration, int deliveries)
    {
        _commitSeconds.Observe(duration.TotalSeconds);
        _commitDeliveries.Observe(deliveries);
    }

    /// <summary>One durability cycle (the inbox log's fdatasync).</summary>
    public void RecordInboxSync(TimeSpan duration, int deliveries) => _syncSeconds.Observe(duration.TotalSeconds);
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
        // The label children are looked up once per (action, result): WithLabels builds its key on every call.
        _receivedChildren.GetOrAdd((actionLabel, result), static (key, counter) => counter.WithLabels(key.Item1, ResultLabels[(int)key.Item2]), _received).Inc();
        _ingestSeconds.Observe(elapsed.TotalSeconds);
        Interlocked.Increment(ref _byResult[(int)result]);
    }

    public void RecordVerified(SecretSlotMatch slot, DateTimeOffset at)
    {
        Interlocked.Increment(ref slot == SecretSlotMatch.Current ? ref _verifiedCurrent : ref _verifiedPrevious);
        (slot == SecretSlotMatch.Current ? _verifiedCurrentChild : _verifiedPreviousChild).Inc();
        Interlocked.Exchange(ref _lastVerifiedSlot, (long)slot);
        Interlocked.Exchange(ref _lastVerifiedAtTicks, at.UtcTicks);
        Interlocked.Exchange(ref slot == SecretSlotMatch.Current ? ref _lastVerifiedCurrentAtTicks : ref _lastVerifiedPreviousAtTicks, at.UtcTicks);
    }

    public void RecordProcessed(string actionLabel, string outcome, DateTimeOffset at)
    {
        _processed.WithLabels(actionLabel, outcome).Inc();
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

    private static string Version()
    {
        var version = typeof(ReceiverMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
    public void RecordIgnoredUpdate(string reason) => _ignoredUpdates.WithLabels(reason).Inc();

    public double IgnoredUpdates(string reason) => _ignoredUpdates.WithLabels(reason).Value;

    private static DateTimeOffset? Ticks(ref long field)
    {
        var ticks = Interlocked.Read(ref field);
        return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}
