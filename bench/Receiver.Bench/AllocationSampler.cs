using System.Diagnostics.Tracing;

namespace Receiver.Bench;

/// <summary>Allocations by type, from the runtime's own sampling (its AllocationTick event, about every 100 KB allocated).</summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly Dictionary<string, long> _bytes = new();
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
        if (!On || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal))
        {
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
