namespace Greenhouse.Harvest;

/// <summary>Settings of the Harvest v3 client. Credentials come from <see cref="IHarvestCredentialSource"/>.</summary>
public sealed class HarvestOptions
{
    /// <summary>Harvest v3 root; resource paths are appended (<c>/candidates</c>, <c>/notes</c>, ...).</summary>
    public Uri BaseUrl { get; set; } = new("https://harvest.greenhouse.io/v3");

    /// <summary>OAuth 2.0 token endpoint (client credentials grant).</summary>
    public Uri TokenUrl { get; set; } = new("https://auth.greenhouse.io/token");

    /// <summary>Greenhouse user id the token acts as (<c>sub</c>); writes are attributed to this user. Null asks for the credential's service account.</summary>
    public long? SyncUserId { get; set; }

    /// <summary>Share of the learned rate limit left unused so other tools on the same credentials keep some budget (0 to 0.9).</summary>
    public double ReservedBudgetShare { get; set; } = 0.1;

    /// <summary>Window assumed when Harvest sends a limit without <c>X-RateLimit-Reset</c>.</summary>
    public TimeSpan AssumedRateLimitWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Slack added after a window reset before sending again, so clocks that differ slightly do not cost a 429.</summary>
    public TimeSpan RateLimitResetMargin { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How many 429 answers one call waits out before it fails with <see cref="HarvestRateLimitedException"/>.</summary>
    public int MaxThrottledRetries { get; set; } = 5;

    /// <summary>Tokens are replaced this long before they expire (capped at half the token's lifetime).</summary>
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>After a rejected token request, the same credentials are not tried again for this long (no hammering with a wrong secret).</summary>
    public TimeSpan TokenFailureBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time one HTTP attempt may take once it has its rate-limit permit.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time one call may take in total, including retries and rate-limit waits.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Retries after 5xx answers and network errors (jittered exponential backoff).</summary>
    public int MaxTransientRetries { get; set; } = 3;

    /// <summary>First backoff delay of transient retries.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Page size of list calls (Harvest allows 1 to 500).</summary>
    public int PageSize { get; set; } = 500;
}
