namespace Sandbox.Greenhouse;

/// <summary>An OAuth client of the simulated token endpoint. <paramref name="PreviousClientSecret"/> keeps working during a rotation.</summary>
public sealed record SimulatedClient(string ClientId, string ClientSecret, IReadOnlyCollection<string> Scopes, string? PreviousClientSecret = null)
{
    /// <summary>Every scope the simulated Harvest routes check.</summary>
    public static IReadOnlyCollection<string> AllScopes { get; } =
    [
        "harvest:candidates:list", "harvest:notes:list", "harvest:notes:create", "harvest:candidate_tags:list",
        "harvest:candidate_tags:create", "harvest:applied_candidate_tags:list", "harvest:applied_candidate_tags:create",
        "harvest:applied_candidate_tags:destroy", "harvest:users:list", "harvest:sources:list",
        "harvest:applications:list", "harvest:applications:create",
        "harvest:webhooks:list", "harvest:webhooks:create", "harvest:webhooks:update", "harvest:webhooks:destroy",
    ];

    /// <summary><see cref="AllScopes"/> without the partner webhook scopes (<c>harvest:webhooks:*</c>): a custom integration's credential.</summary>
    public static IReadOnlyCollection<string> WithoutWebhookScopes { get; } = [.. AllScopes.Where(s => !s.StartsWith("harvest:webhooks:", StringComparison.Ordinal))];

    /// <summary>The client used when none is configured: <c>sandbox-client</c> / <c>sandbox-secret</c>, all scopes.</summary>
    public static SimulatedClient Default { get; } = new("sandbox-client", "sandbox-secret", AllScopes);

    public override string ToString() => $"SimulatedClient {{ ClientId = {ClientId} }}";
}
