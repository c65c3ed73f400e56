namespace Greenhouse.Receiver.Api.Auth;

/// <summary>A ServiceAccount allowed to call the APIs, with its scopes.</summary>
public sealed record ApiClient(string Namespace, string Name, IReadOnlySet<ApiScope> Scopes);
