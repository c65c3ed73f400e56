namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// The most recently used candidate records, at most <see cref="Capacity"/> of them (least recently
/// used goes first). Not thread-safe: the mirror calls it under its lock.
/// </summary>
internal sealed class RecordCache(int capacity)
{
    private readonly Dictionary<long, LinkedListNode<CandidateRecord>> _entries = [];
    private readonly LinkedList<CandidateRecord> _order = new();

    public int Capacity { get; } = capacity;

    public int Count => _entries.Count;

    public bool TryGet(long id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CandidateRecord? record)
    {
        if (_entries.TryGetValue(id, out var node))
        {
            _order.Remove(node);
            _order.AddFirst(node);
            record = node.Value;
            return true;
        }
        record = null;
        return false;
    }

    public void Set(CandidateRecord record)
    {
        if (Capacity == 0)
        {
            return;
        }
        if (_entries.TryGetValue(record.Id, out var node))
        {
            node.Value = record;
            _order.Remove(node);
            _order.AddFirst(node);
            return;
        }
        if (_entries.Count >= Capacity)
        {
            var last = _order.Last!;
            _order.RemoveLast();
            _entries.Remove(last.Value.Id);
        }
        _entries[record.Id] = _order.AddFirst(record);
    }

    public void Remove(long id)
    {
        if (_entries.Remove(id, out var node))
        {
            _order.Remove(node);
        }
    }
}
