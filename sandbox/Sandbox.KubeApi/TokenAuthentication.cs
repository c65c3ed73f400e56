namespace Sandbox.KubeApi;

/// <summary>The user a bearer token stands for and the audiences it matched, or why it was refused (as TokenReview reports it).</summary>
internal sealed record TokenAuthentication(UserInfo? User, IReadOnlyList<string> Audiences, string? Error);
