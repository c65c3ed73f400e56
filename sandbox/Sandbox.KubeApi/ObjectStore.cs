using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Sandbox.KubeApi;

/// <summary>
/// All objects of all kinds, one cluster-wide resourceVersion counter (like etcd's revision), a bounded
/// event history for resuming watches, and the open watches. Callers hold <see cref="Gate"/> around every
/// read-modify-write so a change and its watch event are one atomic step.
/// </summary>
internal sealed class ObjectStore
{
    private readonly Dictionary<string, SortedDictionary<(string Ns, string Name), StoredObject>> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredObject> _byUid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<StoredObject>> _dependents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<WatchSubscription>> _watchers = new(StringComparer.Ordinal);
    private readonly Queue<WatchEvent> _history = new();
    private readonly int _historyCapacity;
    private readonly Channel<WatchEvent> _changes = Channel.CreateUnbounded<WatchEvent>(new UnboundedChannelOptions { SingleReader = true });
    private long _rv;
    private long _compactedThrough;

    public ObjectStore(int historyCapacity)
    {
        _historyCapacity = Math.Max(1, historyCapacity);
    }

    public object Gate { get; } = new();

    /// <summary>Every committed change, for the built-in controllers (garbage collector, CRDs, namespaces).</summary>
    public ChannelReader<WatchEvent> Changes => _changes.Reader;

    public long CurrentResourceVersion
    {
        get
        {
            lock (Gate)
            {
                return _rv;
            }
        }
    }

    /// <summary>The current counter; the caller already holds <see cref="Gate"/>.</summary>
    public long CurrentResourceVersionUnlocked() => _rv;

    public static IComparer<(string Ns, string Name)> KeyOrder { get; } = Comparer<(string Ns, string Name)>.Create((a, b) =>
    {
        var c = string.CompareOrdinal(a.Ns, b.Ns);
        return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
    });

    // ---- reads (caller holds Gate) ----

    public StoredObject? Get(string storageKey, string ns, string name) =>
        _buckets.TryGetValue(storageKey, out var b) && b.TryGetValue((ns, name), out var o) ? o : null;

    public IEnumerable<StoredObject> Items(string storageKey, string? ns)
    {
        if (!_buckets.TryGetValue(storageKey, out var bucket))
        {
            return [];
        }

        return ns is null ? bucket.Values : bucket.Values.Where(o => o.Namespace == ns);
    }

    public int Count(string storageKey) => _buckets.TryGetValue(storageKey, out var b) ? b.Count : 0;

    public StoredObject? ByUid(string uid) => _byUid.GetValueOrDefault(uid);

    public IReadOnlyCollection<StoredObject> Dependents(string ownerUid) =>
        _dependents.TryGetValue(ownerUid, out var set) ? [.. set] : [];

    public IEnumerable<string> NamespacedStorageKeysWithObjectsIn(string ns) =>
        _buckets.Where(kv => kv.Value.Values.Any(o => o.Namespace == ns)).Select(kv => kv.Key).ToList();

    // ---- writes (caller holds Gate) ----

    /// <summary>Stores a new state; the next resourceVersion is written into the object.</summary>
    public StoredObject Put(string storageKey, JsonObject obj, StoredObject? previous)
    {
        var rv = ++_rv;
        Json.Metadata(obj)["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        var stored = new StoredObject(storageKey, obj, rv);
        if (!_buckets.TryGetValue(storageKey, out var bucket))
        {
            bucket = new SortedDictionary<(string Ns, string Name), StoredObject>(KeyOrder);
            _buckets[storageKey] = bucket;
        }

        if (previous is not null)
        {
            Unindex(previous);
        }

        bucket[(stored.Namespace, stored.Name)] = stored;
        Index(stored);
        Emit(new WatchEvent(previous is null ? WatchEvent.Added : WatchEvent.Modified, rv, stored, previous));
        return stored;
    }

    /// <summary>Removes the object; the DELETED event carries the deletion's own resourceVersion.</summary>
    public StoredObject Remove(StoredObject current)
    {
        var rv = ++_rv;
        _buckets[current.StorageKey].Remove((current.Namespace, current.Name));
        Unindex(current);
        var last = current.MutableCopy();
        Json.Metadata(last)["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        var gone = new StoredObject(current.StorageKey, last, rv);
        Emit(new WatchEvent(WatchEvent.Deleted, rv, gone, current));
        return gone;
    }

    // ---- watches ----

    /// <summary>
    /// Opens a watch. With <paramref name="fromResourceVersion"/> null the current objects come first as ADDED;
    /// otherwise every retained change after that version is replayed, or 410 Expired when it was compacted away.
    /// </summary>
    public WatchSubscription Subscribe(string storageKey, string? ns, long? fromResourceVersion, bool initialEventsEndBookmark, bool forceExpired)
    {
        lock (Gate)
        {
            if (fromResourceVersion is { } from && (forceExpired || from < _compactedThrough))
            {
                throw ApiException.Expired($"too old resource version: {from} ({Math.Max(_compactedThrough, from + 1)})");
            }

            var sub = new WatchSubscription(storageKey, Unsubscribe);
            var w = sub.Events.Writer;
            if (fromResourceVersion is null)
            {
                foreach (var o in Items(storageKey, ns))
                {
                    w.TryWrite(new WatchEvent(WatchEvent.Added, o.ResourceVersion, o, null));
                }

                if (initialEventsEndBookmark)
                {
                    w.TryWrite(new WatchEvent(WatchEvent.Bookmark, _rv, null, null, InitialEventsEnd: true));
                }
            }
            else
            {
                foreach (var e in _history)
                {
                    if (e.ResourceVersion > fromResourceVersion && e.Object!.StorageKey == storageKey)
                    {
                        w.TryWrite(e);
                    }
                }
            }

            if (!_watchers.TryGetValue(storageKey, out var list))
            {
                list = [];
                _watchers[storageKey] = list;
            }

            list.Add(sub);
            return sub;
        }
    }

    /// <summary>Queues a bookmark behind every event already queued for this watch.</summary>
    public void RequestBookmark(WatchSubscription sub)
    {
        lock (Gate)
        {
            sub.Events.Writer.TryWrite(new WatchEvent(WatchEvent.Bookmark, _rv, null, null));
        }
    }

    public void CloseWatches(string? storageKey = null, bool abortConnections = false)
    {
        lock (Gate)
        {
            foreach (var (key, list) in _watchers)
            {
                if (storageKey is null || key == storageKey)
                {
                    foreach (var s in list)
                    {
                        s.Close(abortConnections);
                    }
                }
            }
        }
    }

    public int OpenWatchCount
    {
        get
        {
            lock (Gate)
            {
                return _watchers.Values.Sum(l => l.Count);
            }
        }
    }

    /// <summary>Forgets the event history: watches resuming from any older version get 410 Expired.</summary>
    public void Compact()
    {
        lock (Gate)
        {
            _history.Clear();
            _compactedThrough = _rv;
        }
    }

    public void Complete() => _changes.Writer.TryComplete();

    private void Unsubscribe(WatchSubscription sub)
    {
        lock (Gate)
        {
            if (_watchers.TryGetValue(sub.StorageKey, out var list))
            {
                list.Remove(sub);
            }
        }
    }

    private void Emit(WatchEvent e)
    {
        _history.Enqueue(e);
        while (_history.Count > _historyCapacity)
        {
            _compactedThrough = _history.Dequeue().ResourceVersion;
        }

        if (_watchers.TryGetValue(e.Object!.StorageKey, out var list))
        {
            foreach (var s in list)
            {
                s.Events.Writer.TryWrite(e);
            }
        }

        _changes.Writer.TryWrite(e);
    }

    private void Index(StoredObject o)
    {
        if (o.Uid.Length > 0)
        {
            _byUid[o.Uid] = o;
        }

        foreach (var owner in o.OwnerUids)
        {
            if (!_dependents.TryGetValue(owner, out var set))
            {
                set = new HashSet<StoredObject>(ReferenceEqualityComparer.Instance);
                _dependents[owner] = set;
            }

            set.Add(o);
        }
    }

    private void Unindex(StoredObject o)
    {
        if (o.Uid.Length > 0 && _byUid.TryGetValue(o.Uid, out var cur) && ReferenceEquals(cur, o))
        {
            _byUid.Remove(o.Uid);
        }

        foreach (var owner in o.OwnerUids)
        {
            if (_dependents.TryGetValue(owner, out var set))
            {
                set.Remove(o);
                if (set.Count == 0)
                {
                    _dependents.Remove(owner);
                }
            }
        }
    }
}
