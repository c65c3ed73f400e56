namespace Sandbox.KubeApi;

/// <summary>One permission a client used: an RBAC verb on an API group's resource (with subresource, e.g. deployments/scale).</summary>
/// <param name="Verb">get, list, watch, create, update, patch, delete or deletecollection.</param>
/// <param name="ApiGroup">"" for the core group.</param>
/// <param name="Resource">resource or resource/subresource, as an RBAC rule names it.</param>
/// <param name="Requests">How many requests used it.</param>
/// <param name="Denied">How many of them were refused with 401 or 403.</param>
public sealed record PermissionUse(string Verb, string ApiGroup, string Resource, int Requests, int Denied);
