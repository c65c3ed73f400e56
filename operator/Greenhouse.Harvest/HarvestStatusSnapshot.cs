namespace Greenhouse.Harvest;

/// <summary>What the client knows about its connection to Harvest right now, for health reporting and metrics.</summary>
/// <param name="Authenticated">A token was issued and not refused since; null before the first attempt.</param>
/// <param name="TokenExpiresAt">Expiry of the cached token.</param>
/// <param name="UsingPreviousClientSecret">The current secret was rejected and the previous one worked (finish the rotation in Greenhouse).</param>
/// <param name="LastError">Last failure, one sentence without secrets; cleared by the next success.</param>
/// <param name="LastErrorAt">When <paramref name="LastError"/> happened.</param>
/// <param name="LastSuccessAt">Last call Harvest answered with success.</param>
/// <param name="RateLimitLimit">Learned <c>X-RateLimit-Limit</c>.</param>
/// <param name="RateLimitRemaining">Last <c>X-RateLimit-Remaining</c>.</param>
/// <param name="RateLimitResetAt">End of the current rate-limit window, when known.</param>
/// <param name="ThrottledResponses">429 answers received since start.</param>
/// <param name="MissingScopes">Scopes Harvest refused (403) and no later call proved granted, sorted.</param>
public sealed record HarvestStatusSnapshot(
    bool? Authenticated,
    DateTimeOffset? TokenExpiresAt,
    bool UsingPreviousClientSecret,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    DateTimeOffset? LastSuccessAt,
    int? RateLimitLimit,
    int? RateLimitRemaining,
    DateTimeOffset? RateLimitResetAt,
    long ThrottledResponses,
    IReadOnlyList<string> MissingScopes);
