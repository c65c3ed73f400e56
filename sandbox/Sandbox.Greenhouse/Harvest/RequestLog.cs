namespace Sandbox.Greenhouse;

/// <summary>Every Harvest request the simulator answered, newest last (bounded so a long run cannot exhaust memory).</summary>
internal sealed class RequestLog
{
    private const int Capacity = 200_000;
    private readonly Lock gate = new();
    private readonly Queue<SimulatedRequest> entries = new();

    public void Add(SimulatedRequest request)
    {
        lock (gate)
        {
            if (entries.Count == Capacity)
            {
                entries.Dequeue();
            }

            entries.Enqueue(request);
        }
    }

    public IReadOnlyList<SimulatedRequest> Snapshot()
    {
        lock (gate)
        {
            return [.. entries];
        }
    }
}
