using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ControllerRuntime;

/// <summary>
/// Runs a reconciler over a work queue with bounded concurrency. Informer events are mapped to keys
/// (the object itself, its owner, or any custom mapping) and queued; failures come back with
/// per-key backoff; a <see cref="ReconcileResult.RequeueAfter"/> schedules the next run.
/// </summary>
public sealed partial class Controller : IDisposable
{
    private readonly IReconciler _reconciler;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ControllerMetrics? _metrics;

    public Controller(string name, IReconciler reconciler, ControllerOptions options, TimeProvider timeProvider, ILogger logger, ControllerMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        _reconciler = reconciler;
        Options = options;
        _time = timeProvider;
        _logger = logger;
        _metrics = metrics;
        Queue = new WorkQueue<ObjectKey>(name, timeProvider, options.Queue, metrics);
        // Known from the start: no reconcile has failed yet (as controller-runtime does), so
        // dashboards and rates show 0 rather than no data.
        metrics?.ReconcileErrors.WithLabels(name);
        foreach (var result in new[] { "success", "requeue", "error", "cancelled" })
        {
            metrics?.Reconciles.WithLabels(name, result);
        }
    }

    public string Name { get; }

    public ControllerOptions Options { get; }

    public WorkQueue<ObjectKey> Queue { get; }

    /// <summary>Queues every event's own key (the primary kind).</summary>
    public void For<T>(Informer<T> informer)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(informer);
        informer.AddHandler(e => Queue.Add(ObjectKey.Of(e.Current)));
    }

    /// <summary>Queues the controlling owner of owned objects of kind <paramref name="ownerKind"/>.</summary>
    public void Owns<T>(Informer<T> informer, string ownerApiVersion, string ownerKind)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Watches(informer, obj => OwnerMapping.ControllerOf(obj, ownerApiVersion, ownerKind));
    }

    /// <summary>Queues whatever keys <paramref name="map"/> returns for an event's object (for a deletion: its last state).</summary>
    public void Watches<T>(Informer<T> informer, Func<T, IEnumerable<ObjectKey>> map)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(informer);
        ArgumentNullException.ThrowIfNull(map);
        informer.AddHandler(e =>
        {
            foreach (var key in map(e.Current))
            {
                Queue.Add(key);
            }

            // An update may have dropped a reference (e.g. an owner or a referenced Secret changed).
            if (e.Type == InformerEventType.Updated && e.Previous is not null)
            {
                foreach (var key in map(e.Previous))
                {
                    Queue.Add(key);
                }
            }
        });
    }

    /// <summary>
    /// Runs <see cref="ControllerOptions.Concurrency"/> workers until <paramref name="cancellationToken"/>
    /// is cancelled, then lets reconciles in flight finish for up to <see cref="ControllerOptions.ShutdownGrace"/>.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var hardStop = new CancellationTokenSource();
        using var registration = cancellationToken.Register(() => hardStop.CancelAfter(Options.ShutdownGrace));
        var workers = Enumerable.Range(0, Options.Concurrency).Select(_ => WorkAsync(cancellationToken, hardStop.Token)).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    public void Dispose() => Queue.Dispose();

    private async Task WorkAsync(CancellationToken stop, CancellationToken hardStop)
    {
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            ObjectKey key;
            try
            {
                key = await Queue.TakeAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var started = _time.GetTimestamp();
            var result = "success";
            try
            {
                var outcome = await _reconciler.ReconcileAsync(key, hardStop).ConfigureAwait(false);
                Queue.Forget(key);
                if (outcome.RequeueAfter is { } delay)
                {
                    result = "requeue";
                    Queue.AddAfter(key, delay);
                }
            }
            catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
            {
                result = "cancelled";
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                result = "error";
                var failures = Queue.Failures(key) + 1;
                LogReconcileFailed(_logger, ex, Name, key.ToString(), failures, Queue.Backoff(failures));
                Queue.AddRateLimited(key);
            }
            finally
            {
                Queue.Done(key);
                _metrics?.ReconcileDuration.WithLabels(Name).Observe(_time.GetElapsedTime(started).TotalSeconds);
                if (result == "error")
                {
                    _metrics?.ReconcileErrors.WithLabels(Name).Inc();
                }

                _metrics?.Reconciles.WithLabels(Name, result).Inc();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Controller}: reconcile of {Key} failed (attempt {Attempt}); retrying in {Delay}")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception, string controller, string key, int attempt, TimeSpan delay);
}
