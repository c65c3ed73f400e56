namespace Sandbox.KubeApi;

/// <summary>
/// Scriptable failures for reliability tests. Every setting applies to requests that arrive after it
/// was made; <see cref="Reset"/> turns everything off.
/// </summary>
public sealed class FaultInjector
{
    private readonly object _gate = new();
    private readonly ObjectStore _store;
    private readonly Random _random;
    private readonly Dictionary<string, int> _conflicts = new(StringComparer.Ordinal);
    private readonly Queue<(int Code, string? Resource)> _failures = new();
    private double _serverErrorShare;
    private int _serverErrorCode = 500;
    private TimeSpan _latency;
    private int _expireNextWatches;

    internal FaultInjector(ObjectStore store, int seed)
    {
        _store = store;
#pragma warning disable CA5394 // Fault sampling is not security-relevant and must be reproducible from a seed.
        _random = new Random(seed);
#pragma warning restore CA5394
    }

    /// <summary>Delay added before every request is answered.</summary>
    public TimeSpan Latency
    {
        get
        {
            lock (_gate)
            {
                return _latency;
            }
        }

        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate)
            {
                _latency = value;
            }
        }
    }

    /// <summary>The next <paramref name="count"/> writes (update, patch, delete) of <paramref name="resource"/> (plural, e.g. "deployments") answer 409 Conflict.</summary>
    public void ConflictOnNextWrites(string resource, int count)
    {
        ArgumentException.ThrowIfNullOrEmpty(resource);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            _conflicts[resource] = count;
        }
    }

    /// <summary>Answers a random share (0..1) of resource requests with <paramref name="statusCode"/> (500, 503, 504 or 429 with Retry-After).</summary>
    public void FailShareOfRequests(double share, int statusCode = 500)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(share, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(share, 1);
        lock (_gate)
        {
            _serverErrorShare = share;
            _serverErrorCode = statusCode;
        }
    }

    /// <summary>Answers the next <paramref name="count"/> requests (of <paramref name="resource"/>, or any resource) with <paramref name="statusCode"/>.</summary>
    public void FailNextRequests(int count, int statusCode = 500, string? resource = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                _failures.Enqueue((statusCode, resource));
            }
        }
    }

    /// <summary>Ends every open watch stream now, as a dropped connection would; clients must re-watch.</summary>
    public void CloseWatches() => _store.CloseWatches();

    /// <summary>Cuts the TCP connection of every open watch mid-stream; clients see a read error rather than a clean end.</summary>
    public void DropWatchConnections() => _store.CloseWatches(abortConnections: true);

    /// <summary>The next watch that names a resourceVersion gets a 410 Expired ERROR event instead of events.</summary>
    public void ExpireNextWatch()
    {
        lock (_gate)
        {
            _expireNextWatches++;
        }
    }

    /// <summary>Drops the watch history, like an etcd compaction: resuming from any version seen so far gives 410.</summary>
    public void CompactHistory() => _store.Compact();

    /// <summary>Turns every fault off.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _conflicts.Clear();
            _failures.Clear();
            _serverErrorShare = 0;
            _latency = TimeSpan.Zero;
            _expireNextWatches = 0;
        }
    }

    internal int? TakeFailure(string? resource)
    {
        lock (_gate)
        {
            if (_failures.Count > 0 && (_failures.Peek().Resource is null || _failures.Peek().Resource == resource))
            {
                return _failures.Dequeue().Code;
            }

            if (resource is not null && _serverErrorShare > 0 && _random.NextDouble() < _serverErrorShare)
            {
                return _serverErrorCode;
            }

            return null;
        }
    }

    internal bool TakeConflict(string resource)
    {
        lock (_gate)
        {
            if (_conflicts.TryGetValue(resource, out var left) && left > 0)
            {
                _conflicts[resource] = left - 1;
                return true;
            }

            return false;
        }
    }

    internal bool TakeExpiredWatch()
    {
        lock (_gate)
        {
            if (_expireNextWatches > 0)
            {
                _expireNextWatches--;
                return true;
            }

            return false;
        }
    }
}
