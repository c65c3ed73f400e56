namespace Sandbox.KubeApi;

/// <summary>One HTTP request the emulator answered.</summary>
/// <param name="Verb">Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection; "get" for discovery and other non-resource paths.</param>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Request path without the query string.</param>
/// <param name="Group">API group of the resource ("" for core), null for non-resource paths.</param>
/// <param name="Resource">Plural resource name, null for non-resource paths.</param>
/// <param name="Subresource">status, scale, finalize or null.</param>
/// <param name="Namespace">Namespace from the path, if any.</param>
/// <param name="Name">Object name from the path, if any.</param>
/// <param name="StatusCode">HTTP status code of the answer.</param>
/// <param name="Time">When the request arrived.</param>
/// <param name="UserAgent">User-Agent header, to tell kubectl from the operator.</param>
public sealed record RequestLogEntry(
    string Verb,
    string Method,
    string Path,
    string? Group,
    string? Resource,
    string? Subresource,
    string? Namespace,
    string? Name,
    int StatusCode,
    DateTimeOffset Time,
    string? UserAgent)
{
    /// <summary>The identity the request acted as (after impersonation), e.g. system:serviceaccount:NS:NAME; null when authentication failed.</summary>
    public string? User { get; init; }

    /// <summary>The groups of <see cref="User"/>.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>What RBAC checked (or would check, without --rbac): verb, API group, resource, subresource, namespace, name or path.</summary>
    public AuthorizationAttributes? Authorization { get; init; }

    /// <summary>Authorizations an admission step made besides <see cref="Authorization"/> (update on OWNER/finalizers for blockOwnerDeletion, delete when ownerReferences change).</summary>
    public IReadOnlyList<AuthorizationCheck> AdmissionChecks { get; init; } = [];

    /// <summary>False when authentication (401) or authorization (403) refused the request.</summary>
    public bool Authorized { get; init; } = true;

    /// <summary>True for verbs that change state (create, update, patch, delete, deletecollection), whatever the outcome.</summary>
    public bool IsWrite => Verb is "create" or "update" or "patch" or "delete" or "deletecollection";
}
