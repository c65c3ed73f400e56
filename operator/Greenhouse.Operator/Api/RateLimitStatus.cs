using ControllerRuntime.Schema;

namespace Greenhouse.Operator.Api;

public sealed record RateLimitStatus
{
    [Description("Requests allowed per window (X-RateLimit-Limit).")]
    public int? Limit { get; init; }

    [Description("Requests left in the window (X-RateLimit-Remaining).")]
    public int? Remaining { get; init; }
}
