using Prometheus;

namespace ControllerRuntime;

/// <summary>
/// Prometheus metrics of the runtime: work queues, reconciles, leader election, watches and API
/// requests. Where a metric means what a Go controller-runtime metric means, it has that name and
/// those labels (controller_runtime_*, workqueue_*, leader_election_master_status,
/// rest_client_requests_total), so existing dashboards and alerts apply.
/// </summary>
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
        Reconciles = factory.CreateCounter("controller_runtime_reconcile_total", "Reconciles by result (success, requeue, error, cancelled).", ["controller", "result"]);
        ReconcileErrors = factory.CreateCounter("controller_runtime_reconcile_errors_total", "Reconciles that failed (and were re-queued with backoff).", ["controller"]);
        ReconcileDuration = factory.CreateHistogram("controller_runtime_reconcile_time_seconds", "Duration of reconciles.",
            new HistogramConfiguration { LabelNames = ["controller"], Buckets = Histogram.ExponentialBuckets(0.001, 3, 12) });
        WatchRestarts = factory.CreateCounter("greenhouse_operator_watch_restarts_total", "Watches restarted, by reason (closed, expired, error).", ["resource", "reason"]);
        InformerRestarts = factory.CreateCounter("greenhouse_operator_informer_restarts_total", "Informers restarted after they stopped with an error.", ["resource"]);
        UndecodableObjects = factory.CreateCounter("greenhouse_operator_undecodable_objects_total", "Objects skipped because they could not be decoded.", ["resource"]);
        ApiRequests = factory.CreateCounter("rest_client_requests_total", "Requests to the Kubernetes API by method (GET, WATCH, POST, PUT, PATCH, DELETE) and status code (error when unreachable).", ["method", "code"]);
        LeaderStatus = factory.CreateGauge("leader_election_master_status", "1 while this replica holds the lease (name), 0 while it stands by.", ["name"]);
    }

    public Gauge QueueDepth { get; }

    public Counter QueueAdds { get; }

    public Counter QueueRetries { get; }

    public Histogram QueueLatency { get; }

    public Histogram WorkDuration { get; }

    public Counter Reconciles { get; }

    public Counter ReconcileErrors { get; }

    public Histogram ReconcileDuration { get; }

    public Counter WatchRestarts { get; }

    public Counter InformerRestarts { get; }

    public Counter UndecodableObjects { get; }

    public Counter ApiRequests { get; }

    public Gauge LeaderStatus { get; }
}
