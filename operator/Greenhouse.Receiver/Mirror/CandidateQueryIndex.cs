namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// Id-ordered sets (<see cref="SortedIdSet"/>) of the mirrored candidates by tag, by source, of those with a rejection and of
/// those without an active application, so a query walks the smallest set that applies (from the
/// page cursor on) instead of every candidate. Not thread-safe: the mirror calls it under its lock.
/// </summary>
internal sealed class CandidateQueryIndex
{
    private readonly SortedIdSet _all = new();
    private readonly SortedIdSet _rejected = new();
    // Latest rejection (Unix ms) of each candidate in _rejected: the query's date filter without reading records.
    private readonly Dictionary<long, long> _rejectedAt = [];
    private readonly SortedIdSet _noActive = new();
    private readonly Dictionary<string, SortedIdSet> _byTag = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedIdSet> _bySource = new(StringComparer.Ordinal);

    private static readonly SortedIdSet Empty = new();

    public SortedIdSet All => _all;

    public static string Key(string value) => value.Trim().ToUpperInvariant();

    public static bool IsActive(ApplicationRecord application) =>
        string.Equals(application.Status, "active", StringComparison.OrdinalIgnoreCase);

    public static DateTimeOffset? LatestRejection(CandidateRecord candidate)
    {
        DateTimeOffset? latest = null;
        // Indexed: no enumerator allocated (this runs for every record indexed).
        var applications = candidate.Applications;
        for (var i = 0; i < applications.Count; i++)
        {
            var application = applications[i];
            if (string.Equals(application.Status, "rejected", StringComparison.OrdinalIgnoreCase) && application.RejectedAt is { } at && (latest is null || at > latest))
            {
                latest = at;
            }
        }
        return latest;
    }

    /// <summary>Moves a candidate between sets; only the sets whose membership changes are touched.</summary>
    public void Update(CandidateIndexEntry? old, CandidateIndexEntry? updated)
    {
        var id = (old ?? updated)!.Id;
        Toggle(_all, id, old is not null, updated is not null);
        Toggle(_rejected, id, old?.LatestRejection is not null, updated?.LatestRejection is not null);
        if (updated?.LatestRejection is { } at)
        {
            _rejectedAt[id] = at;
        }
        else
        {
            _rejectedAt.Remove(id);
        }
        Toggle(_noActive, id, old?.NoActiveApplication == true, updated?.NoActiveApplication == true);
        Retag(_byTag, id, old?.Tags, updated?.Tags);
        Retag(_bySource, id, old?.Sources, updated?.Sources);
    }

    private static void Toggle(SortedIdSet set, long id, bool was, bool now)
    {
        if (was && !now)
        {
            set.Remove(id);
        }
        else if (now && !was)
        {
            set.Add(id);
        }
    }

    /// <param name="old">Normalised keys (<see cref="Key"/>) before.</param>
    /// <param name="updated">Normalised keys after.</param>
    private static void Retag(Dictionary<string, SortedIdSet> index, long id, IReadOnlyList<string>? old, IReadOnlyList<string>? updated)
    {
        if (old is { Count: 0 } && updated is { Count: 0 })
        {
            return;
        }
        var before = old?.ToHashSet(StringComparer.Ordinal) ?? [];
        var after = updated?.ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var key in before.Except(after))
        {
            Unset(index, key, id);
        }
        foreach (var key in after.Except(before))
        {
            Set(index, key).Add(id);
        }
    }

    /// <summary>Gives back the slack of sets that grew by doubling (after the start-up load).</summary>
    public void TrimExcess()
    {
        foreach (var set in new[] { _all, _rejected, _noActive }.Concat(_byTag.Values).Concat(_bySource.Values))
        {
            set.TrimExcess();
        }
    }

    /// <summary>True when candidate <paramref name="id"/> (a member of the index) passes every filter of <paramref name="query"/>, decided from the index alone.</summary>
    public bool Matches(long id, CandidateQuery query)
    {
        if (query.RejectedBefore is { } cut && (!_rejectedAt.TryGetValue(id, out var at) || at > cut.ToUnixTimeMilliseconds()))
        {
            return false;
        }
        if (query.Tag is { } tag && !(_byTag.GetValueOrDefault(Key(tag))?.Contains(id) ?? false))
        {
            return false;
        }
        if (query.NoActiveApplication && !_noActive.Contains(id))
        {
            return false;
        }
        return query.Source is not { } source || (_bySource.GetValueOrDefault(Key(source))?.Contains(id) ?? false);
    }

    /// <summary>The smallest id set every match of <paramref name="query"/> belongs to.</summary>
    public SortedIdSet Narrowest(CandidateQuery query)
    {
        var best = _all;
        void Consider(SortedIdSet? set)
        {
            set ??= Empty;
            if (set.Count < best.Count)
            {
                best = set;
            }
        }
        if (query.RejectedBefore is not null)
        {
            Consider(_rejected);
        }
        if (query.NoActiveApplication)
        {
            Consider(_noActive);
        }
        if (query.Tag is { } tag)
        {
            Consider(_byTag.GetValueOrDefault(Key(tag)));
        }
        if (query.Source is { } source)
        {
            Consider(_bySource.GetValueOrDefault(Key(source)));
        }
        return best;
    }

    private static SortedIdSet Set(Dictionary<string, SortedIdSet> index, string key)
    {
        if (!index.TryGetValue(key, out var set))
        {
            set = new SortedIdSet();
            index[key] = set;
        }
        return set;
    }

    private static void Unset(Dictionary<string, SortedIdSet> index, string key, long id)
    {
        if (index.TryGetValue(key, out var set) && set.Remove(id) && set.Count == 0)
        {
            index.Remove(key);
        }
    }
}
