namespace Sandbox.KubeApi;

/// <summary>An authorizer's answer: allowed or not, and which binding allowed it (empty when denied).</summary>
internal sealed record AuthorizationDecision(bool Allowed, string Reason);
