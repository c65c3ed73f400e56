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

    /// <summary>Candidates with id greater than <paramref name="afterId"/>, in id order.</summary>
    public IReadOnlyList<CandidateRecord> Page(long afterId, int size, DateTimeOffset? updatedSince)
    {
        lock (_gate)
        {
            // Ordering the keys per page costs O(n log n); fine for paging through tens of thousands.
            return _candidates.Values
                .Where(c => c.Id > afterId && (updatedSince is null || c.UpdatedAt >= updatedSince))
                .OrderBy(c => c.Id)
                .Take(size)
                .ToList();
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
            if (_candidates.TryGetValue(candidate.Id, out var old) && SameLookupSources(old, candidate))
            {
                _candidates[candidate.Id] = candidate;
                return;
            }
            RemoveLocked(candidate.Id);
            _candidates[candidate.Id] = candidate;
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
            _mergedInto[loserId] = survivorId;
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

    private void RemoveLocked(long id)
    {
        if (!_candidates.Remove(id, out var old))
        {
            return;
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
    }
}
