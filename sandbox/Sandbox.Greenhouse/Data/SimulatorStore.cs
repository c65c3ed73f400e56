using System.Text.Json.Nodes;

namespace Sandbox.Greenhouse;

/// <summary>
/// The simulated Greenhouse account. Every collection is keyed by id in descending order (the order
/// Harvest v3 lists in, per third-party observation). All access goes through <see cref="Gate"/>.
/// </summary>
internal sealed class SimulatorStore
{
    private static readonly IComparer<long> Descending = Comparer<long>.Create((a, b) => b.CompareTo(a));
    private long nextCandidateId;
    private long nextId = 7_000_000_000;

    public SimulatorStore(GreenhouseSimulatorOptions options)
    {
        Time = options.TimeProvider;
        SyncUserId = options.SyncUserId;
        var now = Time.GetUtcNow();
        foreach (var candidate in SeedData.Candidates(options.CandidateCount, options.Seed, now))
        {
            Candidates[GreenhouseJson.Id(candidate)] = candidate;
        }

        nextCandidateId = SeedData.FirstCandidateId + (options.CandidateCount * 7L);
        foreach (var user in SeedData.Users(options.SyncUserId, now))
        {
            Users[GreenhouseJson.Id(user)] = user;
        }

        foreach (var source in SeedData.Sources(now))
        {
            Sources[GreenhouseJson.Id(source)] = source;
        }

        foreach (var name in SeedData.TagNames)
        {
            var tag = NewRecord(now);
            tag["name"] = name;
            CandidateTags[GreenhouseJson.Id(tag)] = tag;
        }

        foreach (var candidate in Candidates.Values)
        {
            foreach (var name in candidate["tags"]!.AsArray().Select(t => t!.GetValue<string>()))
            {
                var applied = NewRecord(now);
                applied["candidate_tag_id"] = TagIdByName(name);
                applied["candidate_id"] = GreenhouseJson.Id(candidate);
                AppliedTags[GreenhouseJson.Id(applied)] = applied;
            }
        }
    }

    public Lock Gate { get; } = new();

    public TimeProvider Time { get; }

    public long SyncUserId { get; }

    public SortedDictionary<long, JsonObject> Candidates { get; } = new(Descending);

    public SortedDictionary<long, JsonObject> Notes { get; } = new(Descending);

    public SortedDictionary<long, JsonObject> CandidateTags { get; } = new(Descending);

    public SortedDictionary<long, JsonObject> AppliedTags { get; } = new(Descending);

    public SortedDictionary<long, JsonObject> Users { get; } = new(Descending);

    public SortedDictionary<long, JsonObject> Sources { get; } = new(Descending);

    public SortedDictionary<long, JsonObject> Applications { get; } = new(Descending);

    public SortedDictionary<long, JsonObject> Resource(string name) => name switch
    {
        "candidates" => Candidates,
        "notes" => Notes,
        "candidate_tags" => CandidateTags,
        "applied_candidate_tags" => AppliedTags,
        "users" => Users,
        "sources" => Sources,
        "applications" => Applications,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown resource"),
    };

    /// <summary>A new record with a fresh id and both timestamps at <paramref name="now"/> (call under <see cref="Gate"/>).</summary>
    public JsonObject NewRecord(DateTimeOffset now) => new()
    {
        ["id"] = ++nextId,
        ["created_at"] = GreenhouseJson.Timestamp(now),
        ["updated_at"] = GreenhouseJson.Timestamp(now),
    };

    public long NewCandidateId() => nextCandidateId += 7;

    public long? TagIdByName(string name) =>
        CandidateTags.Values.FirstOrDefault(t => string.Equals(t["name"]?.GetValue<string>(), name, StringComparison.Ordinal)) is { } tag ? GreenhouseJson.Id(tag) : null;

    /// <summary>Rebuilds a candidate's tag names from the applied rows and marks it updated.</summary>
    public void RefreshTags(JsonObject candidate, DateTimeOffset now)
    {
        var id = GreenhouseJson.Id(candidate);
        var names = new JsonArray();
        foreach (var row in AppliedTags.Values.Where(a => a["candidate_id"]!.GetValue<long>() == id).Reverse())
        {
            if (CandidateTags.TryGetValue(row["candidate_tag_id"]!.GetValue<long>(), out var tag))
            {
                names.Add(JsonValue.Create(tag["name"]!.GetValue<string>()));
            }
        }

        candidate["tags"] = names;
        candidate["updated_at"] = GreenhouseJson.Timestamp(now);
    }

    /// <summary>Removes a candidate and everything hanging off it; returns the removed record.</summary>
    public JsonObject? RemoveCandidate(long id)
    {
        if (!Candidates.Remove(id, out var candidate))
        {
            return null;
        }

        foreach (var collection in new[] { Notes, AppliedTags, Applications })
        {
            foreach (var key in collection.Where(e => e.Value["candidate_id"]?.GetValue<long>() == id).Select(e => e.Key).ToList())
            {
                collection.Remove(key);
            }
        }

        return candidate;
    }
}
