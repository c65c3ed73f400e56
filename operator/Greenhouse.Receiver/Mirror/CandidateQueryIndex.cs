namespace Greenhouse.Receiver.Mirror;

/// <summary>
/// Id-ordered sets of the mirrored candidates by tag, by source, of those with a rejection and of
/// those without an active application, so a query walks the smallest set that applies (from the
/// page cursor on) instead of every candidate. Not thread-safe: the mirror calls it under its lock.
/// </summary>
internal sealed class CandidateQueryIndex
{
    private readonly SortedSet<long> _all = [];
    private readonly SortedSet<long> _rejected = [];
    private readonly SortedSet<long> _noActive = [];
    private readonly Dictionary<string, SortedSet<long>> _byTag = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<long>> _bySource = new(StringComparer.Ordinal);

    public SortedSet<long> All => _all;

    public static string Key(string value) => value.Trim().ToUpperInvariant();

    public static bool IsActive(ApplicationRecord application) =>
        string.Equals(application.Status, "active", StringComparison.OrdinalIgnoreCase);

    public static DateTimeOffset? LatestRejection(CandidateRecord candidate)
    {
        DateTimeOffset? latest = null;
        foreach (var application in candidate.Applications)
        {
            if (string.Equals(application.Status, "rejected", StringComparison.OrdinalIgnoreCase) && application.RejectedAt is { } at && (latest is null || at > latest))
            {
                latest = at;
            }
        }
        return latest;
    }

    public void Add(CandidateRecord candidate)
    {
        _all.Add(candidate.Id);
        if (LatestRejection(candidate) is not null)
        {
            _rejected.Add(candidate.Id);
        }
        if (!candidate.Applications.Any(IsActive))
        {
            _noActive.Add(candidate.Id);
        }
        foreach (var tag in candidate.Tags)
        {
            Set(_byTag, Key(tag)).Add(candidate.Id);
        }
        foreach (var application in candidate.Applications)
        {
            if (application.Source is { } source)
            {
                Set(_bySource, Key(source)).Add(candidate.Id);
            }
        }
    }

    public void Remove(CandidateRecord candidate)
    {
        _all.Remove(candidate.Id);
        _rejected.Remove(candidate.Id);
        _noActive.Remove(candidate.Id);
        foreach (var tag in candidate.Tags)
        {
            Unset(_byTag, Key(tag), candidate.Id);
        }
        foreach (var application in candidate.Applications)
        {
            if (application.Source is { } source)
            {
                Unset(_bySource, Key(source), candidate.Id);
            }
        }
    }

    /// <summary>The smallest id set every match of <paramref name="query"/> belongs to.</summary>
    public SortedSet<long> Narrowest(CandidateQuery query)
    {
        var best = _all;
        void Consider(SortedSet<long>? set)
        {
            set ??= [];
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

    private static SortedSet<long> Set(Dictionary<string, SortedSet<long>> index, string key)
    {
        if (!index.TryGetValue(key, out var set))
        {
            set = [];
            index[key] = set;
        }
        return set;
    }

    private static void Unset(Dictionary<string, SortedSet<long>> index, string key, long id)
    {
        if (index.TryGetValue(key, out var set) && set.Remove(id) && set.Count == 0)
        {
            index.Remove(key);
        }
    }
}
