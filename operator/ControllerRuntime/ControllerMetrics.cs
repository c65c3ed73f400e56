using Prometheus;

namespace ControllerRuntime;

/// <summary>Prometheus metrics of the runtime: work queues, reconciles, watches and API requests.</summary>
public sealed class ControllerMetrics
{
    public ControllerMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        QueueDepth = factory.CreateGauge("workqueue_depth", "Keys waiting in the work queue.", ["name"]);
        QueueAdds = factory.CreateCounter("workqueue_adds_total", "Keys added to the work queue.", ["name"]);
        QueueRetries = factory.CreateCounter("workqueue_retries_total", "Keys re-added after a failed reconcile.", ["name"]);
        QueueLatency = factory.CreateHistogram("workqueue_queue_duration_seconds", "Time a key waited in the queue before a worker took it.",
            new HistogramConfiguration { LabelNames = ["name"], Buckets = Histogram.ExponentialBuckets(0.001, 4, 10) });
        WorkDuration = factory.CreateHistogram("workqueue_work_duration_seconds", "Time a worker spent on one key.",
            new HistogramConfiguration { LabelNames = ["name"], Buckets = Histogram.ExponentialBuckets(0.001, 4, 10) });
        Reconciles = factory.CreateCounter("controller_reconcile_total", "Reconciles by result (success, requeue, error).", ["controller", "result"]);
        ReconcileDuration = factory.CreateHistogram("controller_reconcile_duration_seconds", "Duration of reconciles.",
            new HistogramConfiguration { LabelNames = ["controller"], Buckets = Histogram.ExponentialBuckets(0.001, 3, 12) });
        WatchRestarts = factory.CreateCounter("informer_watch_restarts_total", "Watches restarted, by reason (closed, expired, error).", ["resource", "reason"]);
        InformerRestarts = factory.CreateCounter("informer_restarts_total", "Informers restarted after they stopped with an error.", ["resource"]);
        UndecodableObjects = factory.CreateCounter("informer_undecodable_objects_total", "Objects skipped because they could not be decoded.", ["resource"]);
        ApiRequests = factory.CreateCounter("kubernetes_api_requests_total", "Requests to the Kubernetes API by verb and status code.", ["verb", "code"]);
        IsLeader = factory.CreateGauge("leader_election_is_leader", "1 while this replica holds the leader lease.");
    }

    public Gauge QueueDepth { get; }

    public Counter QueueAdds { get; }

    public Counter QueueRetries { get; }

    public Histogram QueueLatency { get; }

    public Histogram WorkDuration { get; }

    public Counter Reconciles { get; }

    public Histogram ReconcileDuration { get; }

    public Counter WatchRestarts { get; }

    public Counter InformerRestarts { get; }

    public Counter UndecodableObjects { get; }

    public Counter ApiRequests { get; }

    public Gauge IsLeader { get; }
}
