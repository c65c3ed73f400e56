namespace Sandbox.KubeApi;

/// <summary>The outcome of checking a ServiceAccount token: its claims and the audiences it matched, or why it failed.</summary>
internal sealed record TokenVerification(ServiceAccountClaims? Claims, IReadOnlyList<string> Audiences, string? Error)
{
    public static TokenVerification Failed(string error) => new(null, [], error);
}
