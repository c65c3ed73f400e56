using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ControllerRuntime;

/// <summary>
/// Keeps a local cache of one kind in sync with the API server: list, then watch from the list's
/// resourceVersion (bookmarks keep it current), re-watch from the last seen resourceVersion when a
/// stream ends, re-list when the server answers 410 Gone, back off exponentially on errors, and
/// re-deliver every cached object each resync period. Handlers run on the informer's loop; they
/// should only enqueue work.
/// </summary>
public sealed partial class Informer<T> : IInformer
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly object _gate = new();
    private readonly Dictionary<ObjectKey, T> _items = [];

    // Objects this process wrote that the watch has not delivered yet (a mutation cache): reads see our own
    // writes at once, so a reconcile never re-reads or re-writes what it just wrote.
    private readonly Dictionary<ObjectKey, T> _written = [];
    private readonly Dictionary<string, (Func<T, IEnumerable<string>> Indexer, Dictionary<string, HashSet<ObjectKey>> Entries)> _indexes = [];
    private readonly List<Action<InformerEvent<T>>> _handlers = [];
    private readonly ListWatch<T> _source;
    private readonly InformerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ControllerMetrics? _metrics;
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _listCount;

    public Informer(ListWatch<T> source, InformerOptions options, TimeProvider timeProvider, ILogger logger, ControllerMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _options = options;
        _time = timeProvider;
        _logger = logger;
        _metrics = metrics;
        source.Undecodable = (name, error) =>
        {
            LogUndecodable(_logger, error, Resource, name);
            _metrics?.UndecodableObjects.WithLabels(Resource).Inc();
        };
    }

    /// <summary>How many full lists have been loaded (a restarted informer that lists again is healthy again).</summary>
    public long ListCount => Interlocked.Read(ref _listCount);

    public string Resource => _source.Resource;

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The resourceVersion of the last list or event applied to the cache (bookmarks only move the resume point).</summary>
    public string? ResourceVersion { get; private set; }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>Registers a handler; add handlers before <see cref="RunAsync"/>.</summary>
    public void AddHandler(Action<InformerEvent<T>> handler)
    {
        lock (_gate)
        {
            _handlers.Add(handler);
        }
    }

    /// <summary>Maintains an index of the cache, e.g. "secrets an object references" -> objects.</summary>
    public void AddIndex(string name, Func<T, IEnumerable<string>> indexer)
    {
        lock (_gate)
        {
            var entries = new Dictionary<string, HashSet<ObjectKey>>();
            _indexes[name] = (indexer, entries);
            foreach (var (key, item) in _items)
            {
                foreach (var value in indexer(item))
                {
                    Entry(entries, value).Add(key);
                }
            }
        }
    }

    public T? Get(ObjectKey key)
    {
        lock (_gate)
        {
            var cached = _items.GetValueOrDefault(key);
            if (_written.TryGetValue(key, out var written))
            {
                if (cached is null || IsNewer(written, cached))
                {
                    return written;
                }

                _written.Remove(key);
            }

            return cached;
        }
    }

    /// <summary>
    /// Puts an object read from the API (for example one the cache holds only in part) into the cache unless the
    /// cache already has a newer version. Handlers are not called.
    /// </summary>
    public void Refresh(T current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var key = ObjectKey.Of(current);
        lock (_gate)
        {
            var previous = _items.GetValueOrDefault(key);
            if (previous is null || !IsNewer(previous, current))
            {
                Store(key, current, previous);
            }
        }
    }

    /// <summary>
    /// Remembers an object this process just wrote (the server's answer), so <see cref="Get"/> returns it until the
    /// watch delivers that version or a newer one. Handlers are not called.
    /// </summary>
    public void Remember(T written)
    {
        ArgumentNullException.ThrowIfNull(written);
        var key = ObjectKey.Of(written);
        lock (_gate)
        {
            if (_items.GetValueOrDefault(key) is { } cached && !IsNewer(written, cached))
            {
                return;
            }

            StripManagedFields(written);
            _written[key] = written;
        }
    }

    // managedFields are often the largest part of an object's metadata and no reader of the cache uses them
    // (controller-runtime's TransformStripManagedFields): they would double the cache's memory for nothing.
    private void StripManagedFields(T item)
    {
        if (_options.StripManagedFields && item.Metadata is { } metadata)
        {
            metadata.ManagedFields = null;
        }
    }

    // resourceVersions are opaque; every server we know of uses increasing integers, anything else is "not newer".
    private static bool IsNewer(T candidate, T than) =>
        ulong.TryParse(candidate.Metadata?.ResourceVersion, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var a)
        && ulong.TryParse(than.Metadata?.ResourceVersion, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var b)
        && a > b;

    public IReadOnlyList<T> List()
    {
        lock (_gate)
        {
            return [.. _items.Values];
        }
    }

    public IReadOnlyList<T> ByIndex(string index, string value)
    {
        lock (_gate)
        {
            return _indexes[index].Entries.TryGetValue(value, out var keys) ? [.. keys.Select(k => _items[k])] : [];
        }
    }

    /// <summary>Every value of an index (e.g. every Secret some cached object references).</summary>
    public IReadOnlyList<string> IndexValues(string index)
    {
        lock (_gate)
        {
            return [.. _indexes[index].Entries.Keys];
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var resync = _options.ResyncPeriod > TimeSpan.Zero
            ? _time.CreateTimer(_ => Resync(), null, _options.ResyncPeriod, _options.ResyncPeriod)
            : null;
        var failures = 0;
        string? resourceVersion = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            Exception? streamError = null;
            try
            {
                if (resourceVersion is null)
                {
                    var (items, listVersion) = await _source.List(cancellationToken).ConfigureAwait(false);
                    Replace(items, listVersion);
                    resourceVersion = listVersion;
                    Interlocked.Increment(ref _listCount);
                    _synced.TrySetResult();
                }

                await foreach (var (type, obj) in _source.Watch(resourceVersion, _options.WatchTimeout, ex => streamError ??= ex, cancellationToken).ConfigureAwait(false))
                {
                    resourceVersion = Apply(type, obj) ?? resourceVersion;
                    failures = 0;
                }

                if (streamError is null)
                {
                    Restart("closed");
                    continue;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (HttpRequestException ex) when (ex.InnerException is EndOfStreamException)
            {
                // The client reports a watch that ended before its first line this way; it is a normal end.
                Restart("closed");
                continue;
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                // Whatever fails (the API, a stream, a bug in decoding), the informer backs off and carries on:
                // one bad object or answer must never stop the cache every reconcile depends on.
                streamError = ex;
            }

            if (IsGone(streamError))
            {
                LogRelist(_logger, Resource);
                Restart("expired");
                resourceVersion = null;
                continue;
            }

            failures++;
            var delay = Backoff(failures);
            LogWatchFailed(_logger, streamError, Resource, delay);
            Restart("error");
            try
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private static bool IsGone(Exception? error) => error switch
    {
        KubernetesException { Status.Code: 410 } => true,
        HttpOperationException { Response.StatusCode: HttpStatusCode.Gone } => true,
        _ => false,
    };

    private TimeSpan Backoff(int failures)
    {
        var delay = _options.InitialBackoff * Math.Pow(2, Math.Min(failures - 1, 20));
        return delay > _options.MaxBackoff ? _options.MaxBackoff : delay;
    }

    private void Restart(string reason) => _metrics?.WatchRestarts.WithLabels(Resource, reason).Inc();

    private string? Apply(WatchEventType type, T obj)
    {
        var version = obj.Metadata?.ResourceVersion;
        if (type is WatchEventType.Bookmark or WatchEventType.Error || obj.Metadata?.Name is null)
        {
            return version;
        }

        var key = ObjectKey.Of(obj);
        InformerEvent<T>? change;
        lock (_gate)
        {
            var previous = _items.GetValueOrDefault(key);
            if (type == WatchEventType.Deleted)
            {
                if (previous is null)
                {
                    return version;
                }

                Remove(key, previous);
                change = new InformerEvent<T>(InformerEventType.Deleted, obj, previous);
            }
            else
            {
                Store(key, obj, previous);
                change = new InformerEvent<T>(previous is null ? InformerEventType.Added : InformerEventType.Updated, obj, previous);
            }

            ResourceVersion = version;
        }

        Notify(change);
        return version;
    }

    private void Replace(IList<T> items, string resourceVersion)
    {
        var changes = new List<InformerEvent<T>>();
        lock (_gate)
        {
            var listed = new HashSet<ObjectKey>();
            foreach (var item in items)
            {
                var key = ObjectKey.Of(item);
                listed.Add(key);
                var previous = _items.GetValueOrDefault(key);
                if (previous?.Metadata.ResourceVersion == item.Metadata.ResourceVersion && previous is not null)
                {
                    continue;
                }

                Store(key, item, previous);
                changes.Add(new InformerEvent<T>(previous is null ? InformerEventType.Added : InformerEventType.Updated, item, previous));
            }

            foreach (var (key, gone) in _items.Where(p => !listed.Contains(p.Key)).ToList())
            {
                Remove(key, gone);
                changes.Add(new InformerEvent<T>(InformerEventType.Deleted, gone, gone));
            }

            ResourceVersion = resourceVersion;
        }

        foreach (var change in changes)
        {
            Notify(change);
        }
    }

    private void Resync()
    {
        foreach (var item in List())
        {
            Notify(new InformerEvent<T>(InformerEventType.Resync, item, item));
        }
    }

    private void Store(ObjectKey key, T item, T? previous)
    {
        StripManagedFields(item);
        if (previous is not null)
        {
            Unindex(key, previous);
        }

        _items[key] = item;
        if (_written.TryGetValue(key, out var written) && !IsNewer(written, item))
        {
            _written.Remove(key);
        }

        foreach (var (_, (indexer, entries)) in _indexes)
        {
            foreach (var value in indexer(item))
            {
                Entry(entries, value).Add(key);
            }
        }
    }

    private void Remove(ObjectKey key, T previous)
    {
        Unindex(key, previous);
        _items.Remove(key);
        _written.Remove(key);
    }

    private void Unindex(ObjectKey key, T item)
    {
        foreach (var (_, (indexer, entries)) in _indexes)
        {
            foreach (var value in indexer(item))
            {
                if (entries.TryGetValue(value, out var keys) && keys.Remove(key) && keys.Count == 0)
                {
                    entries.Remove(value);
                }
            }
        }
    }

    private static HashSet<ObjectKey> Entry(Dictionary<string, HashSet<ObjectKey>> entries, string value)
    {
        if (!entries.TryGetValue(value, out var keys))
        {
            keys = [];
            entries[value] = keys;
        }

        return keys;
    }

    private void Notify(InformerEvent<T> change)
    {
        Action<InformerEvent<T>>[] handlers;
        lock (_gate)
        {
            handlers = [.. _handlers];
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(change);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogHandlerFailed(_logger, ex, Resource);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Skipped {Resource} {Name}: it cannot be decoded; fix or delete the object")]
    private static partial void LogUndecodable(ILogger logger, Exception exception, string resource, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch of {Resource} expired (410 Gone); listing again")]
    private static partial void LogRelist(ILogger logger, string resource);

    [LoggerMessage(Level = LogLevel.Warning, Message = "List/watch of {Resource} failed; retrying in {Delay}")]
    private static partial void LogWatchFailed(ILogger logger, Exception? exception, string resource, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "An event handler for {Resource} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string resource);
}
