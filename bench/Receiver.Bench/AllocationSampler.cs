using System.Diagnostics.Tracing;

namespace Receiver.Bench;

/// <summary>
/// Allocations by type, from the runtime's own sampling (its AllocationTick event, about every 100 KB
/// allocated), and where each collection's pause went: stopping the threads, the collection itself,
/// and starting them again (the runtime's SuspendEE, GCStart/GCEnd and RestartEE events).
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly Dictionary<string, long> _bytes = new();
    private readonly List<(double Suspend, double Collect, double Restart)> _pauses = new();
    private DateTime _suspendBegin, _suspendEnd, _gcStart, _gcEnd, _restartBegin;
    public bool On { get; set; }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!On || e.EventName is null)
        {
            return;
        }
        if (!e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal))
        {
            Phase(e.EventName, e.TimeStamp);
            return;
        }
        var type = e.Payload![e.PayloadNames!.IndexOf("TypeName")] as string ?? "?";
        // Large-object-heap allocations are named apart: they count toward gen2 collections, not gen0 ones.
        if (e.PayloadNames.IndexOf("AllocationKind") is >= 0 and var kind && Convert.ToInt32(e.Payload[kind], System.Globalization.CultureInfo.InvariantCulture) == 1)
        {
            type = "(large object heap) " + type;
        }
        var amount = Convert.ToInt64(e.Payload![e.PayloadNames!.IndexOf("AllocationAmount64")]);
        lock (_bytes)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }

    /// <summary>All the bytes the sampled events account for: every allocation tick carries the bytes allocated since the one before.</summary>
    public long TotalBytes
    {
        get
        {
            lock (_bytes)
            {
                return _bytes.Values.Sum();
            }
        }
    }

    private void Phase(string name, DateTime at)
    {
        // Events come in order from one session: a pause is SuspendEEBegin .. SuspendEEEnd, GCStart .. GCEnd,
        // RestartEEBegin .. RestartEEEnd (a background collection's own suspensions have no GCStart/End between).
        // Names carry a version suffix (GCStart_V2): the part before it tells the phase.
        var underscore = name.IndexOf('_', StringComparison.Ordinal);
        switch (underscore < 0 ? name.AsSpan() : name.AsSpan(0, underscore))
        {
            case "GCSuspendEEBegin": (_suspendBegin, _gcStart, _gcEnd) = (at, default, default); break;
            case "GCSuspendEEEnd": _suspendEnd = at; break;
            case "GCStart": _gcStart = at; break;
            case "GCEnd": _gcEnd = at; break;
            case "GCRestartEEBegin": _restartBegin = at; break;
            case "GCRestartEEEnd": Restarted(at); break;
        }
    }

    private void Restarted(DateTime at)
    {
        if (_suspendBegin != default && _gcStart != default && _gcEnd >= _gcStart)
        {
            lock (_pauses)
            {
                _pauses.Add(((_suspendEnd - _suspendBegin).TotalMilliseconds, (_gcEnd - _gcStart).TotalMilliseconds,
                    (at - _restartBegin).TotalMilliseconds));
            }
        }
        _suspendBegin = default;
    }

    /// <summary>The collections' pauses, split: "n pauses: suspend mean/max, collect mean/max, restart mean/max" (ms).</summary>
    public string PauseBreakdown()
    {
        lock (_pauses)
        {
            if (_pauses.Count == 0)
            {
                return "no collection paused the threads";
            }
            static string Of(IEnumerable<double> xs) => $"mean {xs.Average(),5:F1} ms, max {xs.Max(),5:F1} ms";
            return $"{_pauses.Count} pauses: stopping the threads {Of(_pauses.Select(p => p.Suspend))}; the collection {Of(_pauses.Select(p => p.Collect))}; restarting {Of(_pauses.Select(p => p.Restart))}";
        }
    }

    public void Print(int top)
    {
        lock (_bytes)
        {
            var total = _bytes.Values.Sum();
            foreach (var (type, bytes) in _bytes.OrderByDescending(p => p.Value).Take(top))
            {
                Console.WriteLine($"    {bytes * 100.0 / total,5:F1}%  {type}");
            }
        }
    }
}
