namespace Sandbox.KubeApi;

/// <summary>Thread-safe record of the requests the emulator answered, in arrival order.</summary>
public sealed class RequestLog
{
    private readonly object _gate = new();
    private readonly List<RequestLogEntry> _entries = [];

    /// <summary>Number of recorded requests.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>A copy of the entries recorded so far.</summary>
    public IReadOnlyList<RequestLogEntry> Snapshot()
    {
        lock (_gate)
        {
            return [.. _entries];
        }
    }

    /// <summary>Forgets every entry, e.g. after a test's arrange phase.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }

    /// <summary>
    /// The distinct permissions a user exercised, as RBAC names them (verb, API group, resource/subresource), from
    /// every resource request recorded for that user, allowed or not, and the checks admission made for them
    /// (<see cref="RequestLogEntry.AdmissionChecks"/>, e.g. update on greenhouseintegrations/finalizers): what a
    /// least-privilege role must grant.
    /// </summary>
    public IReadOnlyList<PermissionUse> PermissionsUsedBy(string user)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        return [.. Snapshot()
            .Where(e => e.User == user && e.Authorization is { IsResourceRequest: true })
            .SelectMany(e => e.AdmissionChecks.Select(c => (c.Attributes, Refused: !c.Allowed)).Prepend((Attributes: e.Authorization!, Refused: !e.Authorized)))
            .GroupBy(c => (c.Attributes.Verb, c.Attributes.ApiGroup, c.Attributes.ResourceWithSubresource))
            .Select(g => new PermissionUse(g.Key.Verb, g.Key.ApiGroup, g.Key.ResourceWithSubresource, g.Count(), g.Count(c => c.Refused)))
            .OrderBy(p => p.ApiGroup, StringComparer.Ordinal).ThenBy(p => p.Resource, StringComparer.Ordinal).ThenBy(p => p.Verb, StringComparer.Ordinal)];
    }

    internal void Add(RequestLogEntry entry)
    {
        lock (_gate)
        {
            _entries.Add(entry);
        }
    }
}
