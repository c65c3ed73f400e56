namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// Candidate ids kept sorted in one array: a page seeks its cursor by binary search and reads on
/// in order. (SortedSet's GetViewBetween counts every element of the range when it is created,
/// which made a first page cost as much as the whole set.) Changes move memory, so the index
/// changes a set only when a candidate's membership changes.
/// </summary>
internal sealed class SortedIdSet
{
    private readonly List<long> _ids = [];

    public int Count => _ids.Count;

    public bool Contains(long id) => _ids.BinarySearch(id) >= 0;

    /// <summary>Makes room for <paramref name="count"/> ids (start-up knows how many are coming).</summary>
    public void EnsureCapacity(int count) => _ids.EnsureCapacity(count);

    public void TrimExcess() => _ids.TrimExcess();

    public bool Add(long id)
    {
        // Start-up adds in id order: appending needs no search.
        if (_ids.Count == 0 || id > _ids[^1])
        {
            _ids.Add(id);
            return true;
        }
        var at = _ids.BinarySearch(id);
        if (at >= 0)
        {
            return false;
        }
        _ids.Insert(~at, id);
        return true;
    }

    public bool Remove(long id)
    {
        var at = _ids.BinarySearch(id);
        if (at < 0)
        {
            return false;
        }
        _ids.RemoveAt(at);
        return true;
    }

    /// <summary>The ids greater than <paramref name="afterId"/>, in order (the set must not change while enumerating).</summary>
    public IEnumerable<long> After(long afterId)
    {
        var at = _ids.BinarySearch(afterId);
        for (var i = at >= 0 ? at + 1 : ~at; i < _ids.Count; i++)
        {
            yield return _ids[i];
        }
    }
}
