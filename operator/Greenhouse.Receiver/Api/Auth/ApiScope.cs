namespace Greenhouse.Receiver.Api.Auth;

/// <summary>What a client may do (<c>spec.api.clients[].scopes</c>).</summary>
public enum ApiScope
{
    /// <summary>Candidates.Get, Lookup, List, Query and Integration.Get.</summary>
    Read,

    /// <summary>Candidates.WatchChanges (the whole change stream).</summary>
    Watch,

    /// <summary>Writeback.* (writes into Greenhouse as the sync user).</summary>
    Writeback,
}
