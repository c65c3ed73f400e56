namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// The mirrored candidates: records live on disk (read through <see cref="ICandidateRecordReader"/>,
/// the most recently used ones cached, at most <see cref="CacheRecords"/>), while what must be fast
/// stays in memory and compact: lookup-key hashes -> candidate ids, the re-engagement query's id
/// sets, merges. A lookup hashes the normalised key, finds the ids, reads their records and keeps
/// only those that really hold the key (64-bit hashes can collide). Updated by the mirror store after
/// each commit (<see cref="Put"/>, <see cref="Remove"/>); readers see each change whole.
/// </summary>
public sealed class CandidateMirror
{
    /// <summary>Records kept in memory by default (about 2 KB each as objects).</summary>
    public const int DefaultCacheRecords = 20_000;

    private readonly Lock _gate = new();
    private readonly ICandidateRecordReader _records;
    private readonly RecordCache _cache;
    private readonly Dictionary<long, long> _mergedInto = [];
    private readonly Dictionary<long, HashSet<long>> _mergedFrom = [];
    private readonly CandidateQueryIndex _query = new();
    // Lookup-key hash -> the one candidate holding it; when several hold the same hash (a shared
    // e-mail, or a collision) their ids are in _sharedKeys instead.
    private readonly Dictionary<ulong, long> _keys = [];
    private readonly Dictionary<ulong, List<long>> _sharedKeys = [];
    // Bumped by every change: a record read from disk before a change is not cached after it.
    private long _version;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastChangeNumber;

    public CandidateMirror(ICandidateRecordReader records, int cacheRecords = DefaultCacheRecords)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentOutOfRangeException.ThrowIfNegative(cacheRecords);
        _records = records;
        _cache = new RecordCache(cacheRecords);
    }

    public int CacheRecords => _cache.Capacity;

    /// <summary>Records in the cache now (at most <see cref="CacheRecords"/>).</summary>
    public int CachedRecords
    {
        get
        {
            lock (_gate)
            {
                return _cache.Count;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _query.All.Count;
            }
        }
    }

    /// <summary>Distinct lookup-key hashes in the index.</summary>
    public int IndexedKeys
    {
        get
        {
            lock (_gate)
            {
                return _keys.Count + _sharedKeys.Count;
            }
        }
    }

    public long LastChangeNumber => Interlocked.Read(ref _lastChangeNumber);

    public CandidateRecord? Get(long id)
    {
        long version;
        lock (_gate)
        {
            if (_cache.TryGet(id, out var cached))
            {
                return cached;
            }
            if (!_query.All.Contains(id))
            {
                return null;
            }
            version = _version;
        }
        var record = _records.Read(id);
        if (record is not null)
        {
            lock (_gate)
            {
                if (_version == version)
                {
                    _cache.Set(record);
                }
            }
        }
        return record;
    }

    /// <summary>The surviving id of a merged candidate (following chains of merges), or null.</summary>
    public long? SurvivorOf(long id)
    {
        lock (_gate)
        {
            long? survivor = null;
            var hops = 0;
            while (_mergedInto.TryGetValue(survivor ?? id, out var next) && hops++ < 64)
            {
                survivor = next;
            }
            return survivor;
        }
    }

    public IReadOnlyList<CandidateRecord> Find(LookupKey key)
    {
        var ids = CandidateIdsFor(key);
        if (ids.Count == 0)
        {
            return [];
        }
        var result = new List<CandidateRecord>(ids.Count);
        foreach (var id in ids)
        {
            // The hash may be another key's: only a record that holds the key matches.
            if (Get(id) is { } candidate && candidate.LookupKeys().Contains(key))
            {
                result.Add(candidate);
            }
        }
        return result;
    }

    /// <summary>The ids the index holds for <paramref name="key"/>'s hash (not verified against the records).</summary>
    public IReadOnlyList<long> CandidateIdsFor(LookupKey key)
    {
        var hash = CandidateIndexEntry.Hash(key);
        lock (_gate)
        {
            if (_keys.TryGetValue(hash, out var id))
            {
                return [id];
            }
            return _sharedKeys.TryGetValue(hash, out var ids) ? [.. ids] : [];
        }
    }

    /// <summary>Ids merged into <paramref name="id"/> directly (from merge events, also those the mirror never held).</summary>
    public IReadOnlyCollection<long> MergedInto(long id)
    {
        lock (_gate)
        {
            return _mergedFrom.TryGetValue(id, out var losers) ? [.. losers] : [];
        }
    }

    /// <summary>Candidates with id greater than <paramref name="afterId"/>, in id order.</summary>
    public IReadOnlyList<CandidateRecord> Page(long afterId, int size, DateTimeOffset? updatedSince) => _records.ReadPage(afterId, size, updatedSince);

    /// <summary>
    /// Candidates matching <paramref name="query"/> with id greater than <paramref name="afterId"/>, in id
    /// order: walks the narrowest index set from the cursor and checks the other filters in the
    /// index too, so only the page's own records are read.
    /// </summary>
    public IReadOnlyList<CandidateRecord> Query(CandidateQuery query, long afterId, int size)
    {
        ArgumentNullException.ThrowIfNull(query);
        var ids = new List<long>(Math.Min(size, 1024));
        lock (_gate)
        {
            foreach (var id in _query.Narrowest(query).After(afterId))
            {
                if (_query.Matches(id, query))
                {
                    ids.Add(id);
                    if (ids.Count == size)
                    {
                        break;
                    }
                }
            }
        }
        // Cached records from memory, the rest in one read (ids come in id order, so the read walks the table once).
        var found = new Dictionary<long, CandidateRecord>(ids.Count);
        var missing = new List<long>();
        lock (_gate)
        {
            foreach (var id in ids)
            {
                if (_cache.TryGet(id, out var cached))
                {
                    found[id] = cached;
                }
                else
                {
                    missing.Add(id);
                }
            }
        }
        if (missing.Count > 0)
        {
            // Not cached: a query walks many records once, and caching them would push out the records
            // lookups keep using and keep the page's records alive into the oldest GC generation.
            foreach (var record in _records.ReadMany(missing))
            {
                found[record.Id] = record;
            }
        }
        var page = new List<CandidateRecord>(ids.Count);
        foreach (var id in ids)
        {
            if (found.TryGetValue(id, out var candidate))
            {
                page.Add(candidate);
            }
        }
        return page;
    }

    /// <summary>Every mirrored candidate id (a copy).</summary>
    public IReadOnlyList<long> Ids()
    {
        lock (_gate)
        {
            return [.. _query.All.After(long.MinValue)];
        }
    }

    /// <summary>
    /// Rebuilds the indexes at start from the stored entries (no record is read). Sized up front from
    /// the counts (<paramref name="candidates"/>, <paramref name="keys"/>): a dictionary that doubles
    /// its way to millions of entries holds up to twice the memory it needs.
    /// </summary>
    public void Restore(IEnumerable<CandidateIndexEntry> entries, int candidates, int keys)
    {
        ArgumentNullException.ThrowIfNull(entries);
        lock (_gate)
        {
            _query.All.EnsureCapacity(candidates);
            _keys.EnsureCapacity(keys);
            foreach (var entry in entries)
            {
                _query.Update(null, entry);
                foreach (var hash in entry.KeyHashes)
                {
                    AddKey(hash, entry.Id);
                }
            }
            _query.TrimExcess();
        }
    }

    /// <summary>
    /// Publishes a committed upsert; <paramref name="previous"/> is the record it replaced (null for a new
    /// candidate), <paramref name="entry"/> the new record's index entry when the caller derived it already.
    /// </summary>
    public void Put(CandidateRecord candidate, CandidateRecord? previous, CandidateIndexEntry? entry = null)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        entry ??= CandidateIndexEntry.Of(candidate);
        var old = previous is null ? null : CandidateIndexEntry.Of(previous);
        lock (_gate)
        {
            _version++;
            if (_mergedInto.Remove(candidate.Id, out var survivor) && _mergedFrom.TryGetValue(survivor, out var losers))
            {
                // A record that comes back after a merge is live again.
                losers.Remove(candidate.Id);
            }
            if (old is not null && !_query.All.Contains(candidate.Id))
            {
                old = null;
            }
            _query.Update(old, entry);
            if (old is null || !old.KeyHashes.SequenceEqual(entry.KeyHashes))
            {
                foreach (var hash in old?.KeyHashes ?? [])
                {
                    RemoveKey(hash, candidate.Id);
                }
                foreach (var hash in entry.KeyHashes)
                {
                    AddKey(hash, candidate.Id);
                }
            }
            _cache.Set(candidate);
        }
    }

    /// <summary>Publishes a committed delete (or the loser side of a merge); <paramref name="previous"/> is the record removed, if the mirror had it.</summary>
    public void Remove(long id, CandidateRecord? previous)
    {
        var old = previous is null ? null : CandidateIndexEntry.Of(previous);
        lock (_gate)
        {
            _version++;
            _cache.Remove(id);
            if (old is null || !_query.All.Contains(id))
            {
                return;
            }
            _query.Update(old, null);
            foreach (var hash in old.KeyHashes)
            {
                RemoveKey(hash, id);
            }
        }
    }

    public void RecordMerge(long loserId, long survivorId)
    {
        lock (_gate)
        {
            if (_mergedInto.TryGetValue(loserId, out var previous) && _mergedFrom.TryGetValue(previous, out var before))
            {
                before.Remove(loserId);
            }
            _mergedInto[loserId] = survivorId;
            if (!_mergedFrom.TryGetValue(survivorId, out var losers))
            {
                losers = [];
                _mergedFrom[survivorId] = losers;
            }
            losers.Add(loserId);
        }
    }

    /// <summary>Publishes that the change log now reaches <paramref name="changeNumber"/>.</summary>
    public void Published(long changeNumber)
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            if (changeNumber <= _lastChangeNumber)
            {
                return;
            }
            Interlocked.Exchange(ref _lastChangeNumber, changeNumber);
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }

    /// <summary>Completes when the change log grows beyond <paramref name="changeNumber"/>.</summary>
    public Task WaitForChangeAfterAsync(long changeNumber, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _lastChangeNumber > changeNumber ? Task.CompletedTask : _changed.Task.WaitAsync(cancellationToken);
        }
    }

    private void AddKey(ulong hash, long id)
    {
        if (_keys.TryGetValue(hash, out var holder))
        {
            if (holder != id)
            {
                _keys.Remove(hash);
                _sharedKeys[hash] = [holder, id];
            }
        }
        else if (_sharedKeys.TryGetValue(hash, out var ids))
        {
            if (!ids.Contains(id))
            {
                ids.Add(id);
            }
        }
        else
        {
            _keys[hash] = id;
        }
    }

    private void RemoveKey(ulong hash, long id)
    {
        if (_keys.TryGetValue(hash, out var holder))
        {
            if (holder == id)
            {
                _keys.Remove(hash);
            }
        }
        else if (_sharedKeys.TryGetValue(hash, out var ids) && ids.Remove(id) && ids.Count == 1)
        {
            _sharedKeys.Remove(hash);
            _keys[hash] = ids[0];
        }
    }
}
