using System.Diagnostics.CodeAnalysis;

namespace ControllerRuntime;

/// <summary>
/// Deduplicating work queue in the manner of client-go's: a key queued several times is processed
/// once; a key is never handed to two workers at once (an add while it is processed queues it again
/// when the worker is done); failed keys come back after a per-key exponential backoff; keys can be
/// scheduled for later. Time comes from <see cref="TimeProvider"/>.
/// </summary>
[SuppressMessage("Naming", "CA1711", Justification = "It is a queue; the name is the one controller authors know from client-go.")]
public sealed class WorkQueue<TKey> : IDisposable
    where TKey : notnull
{
    private readonly object _gate = new();
    private readonly Queue<TKey> _queue = new();
    private readonly HashSet<TKey> _dirty = [];
    private readonly HashSet<TKey> _processing = [];
    private readonly Dictionary<TKey, long> _enqueuedAt = [];
    private readonly Dictionary<TKey, long> _startedAt = [];
    private readonly Dictionary<TKey, int> _failures = [];
    private readonly Dictionary<TKey, (DateTimeOffset ReadyAt, ITimer Timer)> _waiting = [];
    private readonly SemaphoreSlim _available = new(0);
    private readonly string _name;
    private readonly TimeProvider _time;
    private readonly WorkQueueOptions _options;
    private readonly ControllerMetrics? _metrics;
    private bool _disposed;

    public WorkQueue(string name, TimeProvider timeProvider, WorkQueueOptions? options = null, ControllerMetrics? metrics = null)
    {
        _name = name;
        _time = timeProvider;
        _options = options ?? new WorkQueueOptions();
        _metrics = metrics;
    }

    /// <summary>Keys waiting for a worker (not counting delayed ones or those being processed).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    public void Add(TKey key)
    {
        lock (_gate)
        {
            if (_disposed || !_dirty.Add(key))
            {
                return;
            }

            _metrics?.QueueAdds.WithLabels(_name).Inc();
            _enqueuedAt[key] = _time.GetTimestamp();
            if (_processing.Contains(key))
            {
                return;
            }

            Enqueue(key);
        }
    }

    /// <summary>Adds the key after <paramref name="delay"/>; an earlier pending schedule for the key wins.</summary>
    public void AddAfter(TKey key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var readyAt = _time.GetUtcNow() + delay;
            if (_waiting.TryGetValue(key, out var pending))
            {
                if (pending.ReadyAt <= readyAt)
                {
                    return;
                }

                pending.Timer.Dispose();
            }

            var timer = _time.CreateTimer(_ => Fire(key, readyAt), null, delay, Timeout.InfiniteTimeSpan);
            _waiting[key] = (readyAt, timer);
        }
    }

    /// <summary>Re-adds a key whose processing failed, after its backoff (which doubles per failure).</summary>
    public void AddRateLimited(TKey key)
    {
        TimeSpan delay;
        lock (_gate)
        {
            var failures = _failures.GetValueOrDefault(key) + 1;
            _failures[key] = failures;
            delay = Backoff(failures);
        }

        _metrics?.QueueRetries.WithLabels(_name).Inc();
        AddAfter(key, delay);
    }

    /// <summary>Clears the failure count of a key (after it was processed successfully).</summary>
    public void Forget(TKey key)
    {
        lock (_gate)
        {
            _failures.Remove(key);
        }
    }

    public int Failures(TKey key)
    {
        lock (_gate)
        {
            return _failures.GetValueOrDefault(key);
        }
    }

    /// <summary>The delay after the given number of consecutive failures.</summary>
    public TimeSpan Backoff(int failures)
    {
        var exponent = Math.Min(failures - 1, 30);
        var delay = _options.BaseDelay * Math.Pow(2, exponent);
        return delay > _options.MaxDelay ? _options.MaxDelay : delay;
    }

    /// <summary>Waits for a key; the caller must call <see cref="Done"/> when finished with it.</summary>
    public async Task<TKey> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    continue;
                }

                var key = _queue.Dequeue();
                _dirty.Remove(key);
                _processing.Add(key);
                var now = _time.GetTimestamp();
                if (_enqueuedAt.Remove(key, out var enqueuedAt))
                {
                    _metrics?.QueueLatency.WithLabels(_name).Observe(_time.GetElapsedTime(enqueuedAt, now).TotalSeconds);
                }

                _startedAt[key] = now;
                _metrics?.QueueDepth.WithLabels(_name).Set(_queue.Count);
                return key;
            }
        }
    }

    public void Done(TKey key)
    {
        lock (_gate)
        {
            _processing.Remove(key);
            if (_startedAt.Remove(key, out var startedAt))
            {
                _metrics?.WorkDuration.WithLabels(_name).Observe(_time.GetElapsedTime(startedAt).TotalSeconds);
            }

            if (_dirty.Contains(key) && !_disposed)
            {
                Enqueue(key);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var (_, pending) in _waiting)
            {
                pending.Timer.Dispose();
            }

            _waiting.Clear();
        }

        _available.Dispose();
    }

    private void Fire(TKey key, DateTimeOffset readyAt)
    {
        lock (_gate)
        {
            if (!_waiting.TryGetValue(key, out var pending) || pending.ReadyAt != readyAt)
            {
                return;
            }

            _waiting.Remove(key);
            pending.Timer.Dispose();
        }

        Add(key);
    }

    private void Enqueue(TKey key)
    {
        _queue.Enqueue(key);
        _metrics?.QueueDepth.WithLabels(_name).Set(_queue.Count);
        _available.Release();
    }
}
