namespace Greenhouse.Receiver.Storage;

/// <summary>
/// The hashes of stored event ids, split over 256 sets: when one grows it rehashes a 256th of the
/// ids, so the inbox writer never stalls for the rehash of a million-entry set in one go.
/// Not thread-safe: the inbox writer is its only user.
/// </summary>
internal sealed class EventIdSet
{
    private readonly HashSet<UInt128>[] _shards = [.. Enumerable.Range(0, 256).Select(_ => new HashSet<UInt128>())];

    public int Count => _shards.Sum(s => s.Count);

    public bool Contains(UInt128 hash) => Shard(hash).Contains(hash);

    public bool Add(UInt128 hash) => Shard(hash).Add(hash);

    public bool Remove(UInt128 hash) => Shard(hash).Remove(hash);

    public void UnionWith(IEnumerable<UInt128> hashes)
    {
        foreach (var hash in hashes)
        {
            Add(hash);
        }
    }

    public void Clear()
    {
        foreach (var shard in _shards)
        {
            shard.Clear();
            shard.TrimExcess();
        }
    }

    // XXH128 bits are uniform; the low byte picks the set.
    private HashSet<UInt128> Shard(UInt128 hash) => _shards[(int)(byte)hash];
}
