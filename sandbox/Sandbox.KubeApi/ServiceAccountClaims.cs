namespace Sandbox.KubeApi;

/// <summary>The kubernetes.io claims of a ServiceAccount token: who it is, and the object it is bound to, if any.</summary>
internal sealed record ServiceAccountClaims(string Namespace, string ServiceAccountName, string ServiceAccountUid, string TokenId)
{
    public string? PodName { get; init; }

    public string? PodUid { get; init; }

    public string? SecretName { get; init; }

    public string? SecretUid { get; init; }
}
