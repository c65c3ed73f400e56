using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ControllerRuntime;

/// <summary>
/// One small informer per object of interest, each listing and watching a single name (a
/// <c>metadata.name</c> field selector), for objects that are referenced by name from a kind that is too large or
/// too sensitive to cache whole — Secrets: a cluster holds Helm releases, tokens and certificates an operator has
/// no business decoding. The kubelet watches the Secrets its pods use the same way. <see cref="Track"/> sets the
/// names of interest: informers start for new names and stop (dropping their cache) for names no longer wanted.
/// As an <see cref="IInformer"/> it is synced at once (a name's own informer syncs in the background; until
/// then <see cref="TryGet"/> says so and the caller reads the object by name).
/// </summary>
public sealed partial class NamedInformers<T> : IInformer
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly object _gate = new();
    private readonly Func<ObjectKey, ListWatch<T>> _source;
    private readonly InformerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ControllerMetrics? _metrics;
    private readonly List<Action<InformerEvent<T>>> _handlers = [];
    private readonly Dictionary<ObjectKey, Running> _running = [];
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HashSet<ObjectKey> _wanted = [];
    private CancellationToken _stopAll;
    private bool _stopped;

    /// <param name="source">The list/watch of one object (see <see cref="ListWatches.For{T}"/> with a field selector).</param>
    public NamedInformers(string resource, Func<ObjectKey, ListWatch<T>> source, InformerOptions options, TimeProvider timeProvider, ILogger logger, ControllerMetrics? metrics = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(resource);
        ArgumentNullException.ThrowIfNull(source);
        Resource = resource;
        _source = source;
        _options = options;
        _time = timeProvider;
        _logger = logger;
        _metrics = metrics;
    }

    public string Resource { get; }

    public bool HasSynced => _started.Task.IsCompleted;

    public long ListCount => HasSynced ? 1 : 0;

    /// <summary>The names watched now.</summary>
    public IReadOnlyCollection<ObjectKey> Tracked
    {
        get
        {
            lock (_gate)
            {
                return [.. _running.Keys];
            }
        }
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _started.Task.WaitAsync(cancellationToken);

    /// <summary>Registers a handler for the events of every name's informer; add handlers before <see cref="RunAsync"/>.</summary>
    public void AddHandler(Action<InformerEvent<T>> handler)
    {
        lock (_gate)
        {
            _handlers.Add(handler);
        }
    }

    /// <summary>Watches exactly <paramref name="keys"/> from now on.</summary>
    public void Track(IEnumerable<ObjectKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        lock (_gate)
        {
            _wanted = [.. keys];
            if (HasSynced)
            {
                Reconcile();
            }
        }
    }

    /// <summary>
    /// The cached object when <paramref name="key"/> is tracked and its informer has listed (null: it does not
    /// exist); false when the cache cannot answer yet.
    /// </summary>
    public bool TryGet(ObjectKey key, out T? value)
    {
        Running? running;
        lock (_gate)
        {
            running = _running.GetValueOrDefault(key);
        }

        value = null;
        if (running is null || !running.Informer.HasSynced)
        {
            return false;
        }

        value = running.Informer.Get(key);
        return true;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stopAll = cancellationToken;
            _stopped = false;
            Reconcile();
        }

        _started.TrySetResult();
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped, as an informer returns when it is stopped.
        }
        finally
        {
            Running[] all;
            lock (_gate)
            {
                _stopped = true;
                all = [.. _running.Values];
                _running.Clear();
            }

            foreach (var running in all)
            {
                await running.Stop.CancelAsync().ConfigureAwait(false);
            }

            await Task.WhenAll(all.Select(r => r.Task)).ConfigureAwait(false);
            foreach (var running in all)
            {
                running.Stop.Dispose();
            }
        }
    }

    // Under _gate: start informers for wanted names, stop the others.
    private void Reconcile()
    {
        if (_stopped)
        {
            return;
        }

        foreach (var key in _running.Keys.Where(k => !_wanted.Contains(k)).ToList())
        {
            var gone = _running[key];
            _running.Remove(key);
            gone.Stop.Cancel();
            _ = gone.Task.ContinueWith(_ => gone.Stop.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            LogUntracked(_logger, Resource, key.Namespace, key.Name);
        }

        foreach (var key in _wanted.Where(k => !_running.ContainsKey(k)))
        {
            var informer = new Informer<T>(_source(key), _options, _time, _logger, _metrics);
            foreach (var handler in _handlers)
            {
                informer.AddHandler(handler);
            }

            var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopAll);
            _running[key] = new Running(informer, stop, RunOneAsync(informer, key, stop.Token));
            LogTracked(_logger, Resource, key.Namespace, key.Name);
        }
    }

    private async Task RunOneAsync(Informer<T> informer, ObjectKey key, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            // An informer carries on through API errors with backoff; it returns when it is stopped.
            await informer.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFailed(_logger, ex, Resource, key.Namespace, key.Name);
        }
    }

    private sealed record Running(Informer<T> Informer, CancellationTokenSource Stop, Task Task);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Watching {Resource} {Namespace}/{Name}")]
    private static partial void LogTracked(ILogger logger, string resource, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No longer watching {Resource} {Namespace}/{Name}")]
    private static partial void LogUntracked(ILogger logger, string resource, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "The informer of {Resource} {Namespace}/{Name} stopped with an error")]
    private static partial void LogFailed(ILogger logger, Exception exception, string resource, string @namespace, string name);
}
