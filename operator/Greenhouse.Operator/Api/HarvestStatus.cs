using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record HarvestStatus
{
    [Description("Whether the last token request succeeded.")]
    public bool? Authenticated { get; init; }

    [Description("When the current access token expires.")]
    public DateTime? TokenExpiresAt { get; init; }

    [Description("Harvest rate limit as last observed.")]
    public RateLimitStatus? RateLimit { get; init; }

    [Description("Harvest scopes the credentials lack.")]
    public IList<string>? MissingScopes { get; init; }

    [Description("The last Harvest error, for a person to act on.")]
    public string? LastError { get; init; }
}
