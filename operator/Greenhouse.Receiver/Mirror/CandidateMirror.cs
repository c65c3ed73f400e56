namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// In-memory view of the mirrored candidates with a dictionary index on normalised lookup keys,
/// so lookups never touch SQLite. Loaded from the database at start and updated by the event
/// processor after each commit; readers see each change whole.
/// </summary>
public sealed class CandidateMirror
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, CandidateRecord> _candidates = [];
    private readonly Dictionary<long, long> _mergedInto = [];
    private readonly Dictionary<long, HashSet<long>> _mergedFrom = [];
    private readonly CandidateQueryIndex _query = new();
    private readonly Dictionary<LookupKey, List<long>> _index = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastChangeNumber;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _candidates.Count;
            }
        }
    }

    public long LastChangeNumber => Interlocked.Read(ref _lastChangeNumber);

    public CandidateRecord? Get(long id)
    {
        lock (_gate)
        {
            return _candidates.GetValueOrDefault(id);
        }
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
        lock (_gate)
        {
            if (!_index.TryGetValue(key, out var ids))
            {
                return [];
            }
            var result = new CandidateRecord[ids.Count];
            for (var i = 0; i < ids.Count; i++)
            {
                result[i] = _candidates[ids[i]];
            }
            return result;
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
    public IReadOnlyList<CandidateRecord> Page(long afterId, int size, DateTimeOffset? updatedSince)
    {
        lock (_gate)
        {
            var page = new List<CandidateRecord>(Math.Min(size, 1024));
            foreach (var id in _query.All.After(afterId))
            {
                var candidate = _candidates[id];
                if (updatedSince is null || candidate.UpdatedAt >= updatedSince)
                {
                    page.Add(candidate);
                    if (page.Count == size)
                    {
                        break;
                    }
                }
            }
            return page;
        }
    }

    /// <summary>
    /// Candidates matching <paramref name="query"/> with id greater than <paramref name="afterId"/>, in id
    /// order: walks the narrowest index set from the cursor and checks the other filters per record.
    /// </summary>
    public IReadOnlyList<CandidateRecord> Query(CandidateQuery query, long afterId, int size)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_gate)
        {
            var page = new List<CandidateRecord>(Math.Min(size, 1024));
            var set = _query.Narrowest(query);
            if (set.Count == 0)
            {
                return page;
            }
            foreach (var id in set.After(afterId))
            {
                var candidate = _candidates[id];
                if (query.Matches(candidate))
                {
                    page.Add(candidate);
                    if (page.Count == size)
                    {
                        break;
                    }
                }
            }
            return page;
        }
    }

    /// <summary>Every mirrored candidate id (a copy).</summary>
    public IReadOnlyList<long> Ids()
    {
        lock (_gate)
        {
            return [.. _candidates.Keys];
        }
    }

    public void Put(CandidateRecord candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        lock (_gate)
        {
            // Most updates leave e-mails and profile URLs as they were: keep the index entries
            // instead of normalising (URI parsing) every address twice.
            if (_mergedInto.Remove(candidate.Id, out var survivor) && _mergedFrom.TryGetValue(survivor, out var losers))
            {
                // A record that comes back after a merge is live again.
                losers.Remove(candidate.Id);
            }
            if (_candidates.TryGetValue(candidate.Id, out var old) && SameLookupSources(old, candidate))
            {
                _query.Update(old, candidate);
                _candidates[candidate.Id] = candidate;
                return;
            }
            var previous = RemoveLocked(candidate.Id, keepQueryIndex: true);
            _candidates[candidate.Id] = candidate;
            _query.Update(previous, candidate);
            foreach (var key in candidate.LookupKeys().Distinct())
            {
                if (!_index.TryGetValue(key, out var ids))
                {
                    ids = new List<long>(1);
                    _index[key] = ids;
                }
                ids.Add(candidate.Id);
            }
        }
    }

    public void Remove(long id)
    {
        lock (_gate)
        {
            RemoveLocked(id);
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

    private static bool SameLookupSources(CandidateRecord a, CandidateRecord b) =>
        SameValues(a.EmailAddresses, b.EmailAddresses)
        && SameValues(a.WebsiteAddresses, b.WebsiteAddresses)
        && SameValues(a.SocialMediaAddresses, b.SocialMediaAddresses);

    private static bool SameValues(IReadOnlyList<ContactEntry> a, IReadOnlyList<ContactEntry> b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }
        if (a.Count != b.Count)
        {
            return false;
        }
        for (var i = 0; i < a.Count; i++)
        {
            if (!string.Equals(a[i].Value, b[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    private CandidateRecord? RemoveLocked(long id, bool keepQueryIndex = false)
    {
        if (!_candidates.Remove(id, out var old))
        {
            return null;
        }
        if (!keepQueryIndex)
        {
            _query.Remove(old);
        }
        foreach (var key in old.LookupKeys().Distinct())
        {
            if (_index.TryGetValue(key, out var ids))
            {
                ids.Remove(id);
                if (ids.Count == 0)
                {
                    _index.Remove(key);
                }
            }
        }
        return old;
    }
}
